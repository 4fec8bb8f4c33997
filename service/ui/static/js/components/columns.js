/**
 * The runs table's column chooser: the metric, param and tag keys of all the experiment's
 * runs, asked of the server (``load(contains)``, bounded), searchable there, so an
 * experiment with thousands of keys stays usable.
 */

import { debounce, h, icon } from "../dom.js";

const GROUPS = [
  ["metrics", "Metrics"],
  ["params", "Parameters"],
  ["tags", "Tags"],
];
const SHOWN_PER_GROUP = 200;

export const KEYS_PER_GROUP = SHOWN_PER_GROUP;

export function columnPicker({ load, chosen, onChange }) {
  let keys = null;
  let asked = 0;
  const panel = h("div", {
    class: "popover",
    hidden: true,
    role: "dialog",
    "aria-label": "Choose columns",
  });
  const button = h(
    "button",
    {
      class: "btn",
      type: "button",
      "aria-haspopup": "dialog",
      "aria-expanded": "false",
      on: { click: () => (panel.hidden ? open() : close()) },
    },
    icon("columns"),
    "Columns",
  );
  const search = h("input", {
    type: "search",
    placeholder: "Find a key",
    "aria-label": "Find a key",
    on: { input: debounce(() => fetchKeys(), 200) },
  });
  const list = h("div", { class: "popover-list" });
  panel.append(search, list);
  // Escape closes the popover and gives focus back to its button (WAI-ARIA disclosure).
  panel.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    event.stopPropagation();
    close();
    button.focus();
  });

  function onOutside(event) {
    if (!panel.contains(event.target) && !button.contains(event.target)) close();
  }
  function open() {
    panel.hidden = false;
    button.setAttribute("aria-expanded", "true");
    document.addEventListener("mousedown", onOutside);
    fetchKeys();
    search.focus();
  }
  function close() {
    panel.hidden = true;
    button.setAttribute("aria-expanded", "false");
    document.removeEventListener("mousedown", onOutside);
  }

  /** Ask the server for the keys matching the search box; a late answer is dropped. */
  async function fetchKeys() {
    const mine = (asked += 1);
    if (!keys) list.replaceChildren(h("p", { class: "muted small", text: "Loading keys…" }));
    try {
      const found = await load(search.value.trim());
      if (mine !== asked) return;
      keys = found;
      draw();
    } catch (error) {
      if (mine === asked)
        list.replaceChildren(h("p", { class: "field-error", role: "alert", text: error.message }));
    }
  }

  function draw() {
    const current = chosen() || { metrics: [], params: [], tags: [] };
    const groups = GROUPS.map(([group, title]) => {
      const matching = keys[group] || [];
      const items = matching.slice(0, SHOWN_PER_GROUP).map((key) => {
        const input = h("input", {
          type: "checkbox",
          checked: current[group].includes(key),
          on: {
            change: () => {
              const next = {
                ...current,
                [group]: input.checked
                  ? [...current[group], key]
                  : current[group].filter((k) => k !== key),
              };
              onChange(next);
              draw();
            },
          },
        });
        return h(
          "label",
          { class: "check" },
          input,
          h("span", { class: "clip", title: key, text: key }),
        );
      });
      const more =
        matching.length >= SHOWN_PER_GROUP && keys.truncated
          ? h("p", { class: "muted small", text: "More keys: refine the search" })
          : null;
      return h(
        "fieldset",
        null,
        h("legend", { text: `${title} (${matching.length}${more ? "+" : ""})` }),
        items.length ? items : h("p", { class: "muted small", text: "None" }),
        more,
      );
    });
    list.replaceChildren(...groups);
  }

  return h("div", { class: "popover-anchor" }, button, panel);
}
