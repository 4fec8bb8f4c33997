/**
 * The runs table's column chooser: metrics, params and tags seen in the loaded runs,
 * searchable, so an experiment with thousands of keys stays usable.
 */

import { h, icon } from "../dom.js";

const GROUPS = [
  ["metrics", "Metrics"],
  ["params", "Parameters"],
  ["tags", "Tags"],
];
const SHOWN_PER_GROUP = 200;

export function columnPicker({ keys, chosen, onChange }) {
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
    on: { input: () => draw() },
  });
  const list = h("div", { class: "popover-list" });
  panel.append(search, list);

  function onOutside(event) {
    if (!panel.contains(event.target) && !button.contains(event.target)) close();
  }
  function open() {
    panel.hidden = false;
    button.setAttribute("aria-expanded", "true");
    document.addEventListener("mousedown", onOutside);
    draw();
    search.focus();
  }
  function close() {
    panel.hidden = true;
    button.setAttribute("aria-expanded", "false");
    document.removeEventListener("mousedown", onOutside);
  }

  function draw() {
    const needle = search.value.trim().toLowerCase();
    const current = chosen() || { metrics: [], params: [], tags: [] };
    const groups = GROUPS.map(([group, title]) => {
      const all = [...keys()[group]].sort();
      const matching = all.filter((key) => key.toLowerCase().includes(needle));
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
        matching.length > SHOWN_PER_GROUP
          ? h("p", {
              class: "muted small",
              text: `${matching.length - SHOWN_PER_GROUP} more: refine the search`,
            })
          : null;
      return h(
        "fieldset",
        null,
        h("legend", { text: `${title} (${all.length})` }),
        items.length ? items : h("p", { class: "muted small", text: "None" }),
        more,
      );
    });
    list.replaceChildren(...groups);
  }

  return h("div", { class: "popover-anchor" }, button, panel);
}
