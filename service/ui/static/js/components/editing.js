/**
 * In-place editing of metadata: a description (Markdown-free text) and a tag list. Both
 * show read-only when ``canEdit`` is false. Saves call the API; a refused save keeps the
 * editor open with the server's message.
 */

import { h, icon, mount } from "../dom.js";
import { confirm } from "./dialog.js";
import { keyValues } from "./table.js";
import { toast } from "./states.js";
import * as fmt from "../format.js";

/** A description with an Edit button; ``onSave(text)`` persists it. */
export function descriptionEditor({ value, canEdit, onSave, label = "Description" }) {
  const host = h("div", { class: "description-editor" });
  let current = value || "";

  function show() {
    mount(
      host,
      current
        ? h("p", { class: "description", text: current })
        : h("p", { class: "muted", text: "No description." }),
      canEdit
        ? h(
            "button",
            {
              class: "btn small",
              type: "button",
              on: { click: edit },
              "aria-label": `Edit ${label.toLowerCase()}`,
            },
            icon("edit"),
            "Edit",
          )
        : null,
    );
  }

  function edit() {
    const area = h("textarea", { rows: 4, "aria-label": label, value: current });
    const error = h("p", { class: "field-error", role: "alert" });
    const save = h("button", { class: "btn primary", type: "submit" }, "Save");
    const form = h(
      "form",
      {
        class: "edit-form",
        on: {
          submit: async (event) => {
            event.preventDefault();
            save.disabled = true;
            try {
              await onSave(area.value.trim());
              current = area.value.trim();
              toast(`${label} saved`);
              show();
            } catch (err) {
              error.textContent = err.message;
              save.disabled = false;
            }
          },
          keydown: (event) => {
            if (event.key === "Escape") show();
          },
        },
      },
      area,
      error,
      h(
        "div",
        { class: "dialog-actions" },
        h("button", { class: "btn", type: "button", on: { click: show } }, "Cancel"),
        save,
      ),
    );
    mount(host, form);
    area.focus();
  }

  show();
  return host;
}

/**
 * Tags as a key/value table with a remove button per tag, and a form that sets one (a new
 * key, or a new value for an existing key). ``system`` tags (``mlflow.*``) are left out.
 */
export function tagEditor({ tags, canEdit, onSet, onDelete }) {
  const host = h("div", { class: "tag-editor" });
  let list = (tags || []).filter((t) => !fmt.SYSTEM_TAG.test(t.key));

  function draw() {
    const table = keyValues(list, {
      empty: "No tags",
      valueCell: canEdit
        ? (item) =>
            h(
              "span",
              { class: "tag-value" },
              h("span", { text: item.value }),
              h(
                "button",
                {
                  class: "btn small ghost",
                  type: "button",
                  "aria-label": `Remove tag ${item.key}`,
                  title: "Remove tag",
                  on: { click: () => remove(item.key) },
                },
                icon("x"),
              ),
            )
        : null,
    });
    mount(host, table, canEdit ? form() : null);
  }

  async function remove(key) {
    const sure = await confirm({
      title: `Remove tag ${key}?`,
      message: "The tag and its value are deleted.",
      action: "Remove",
      danger: true,
    });
    if (!sure) return;
    try {
      await onDelete(key);
      list = list.filter((t) => t.key !== key);
      toast(`Tag ${key} removed`);
      draw();
    } catch (err) {
      toast(err.message, "error");
    }
  }

  function form() {
    const key = h("input", { type: "text", required: true, "aria-label": "Tag key" });
    const value = h("input", { type: "text", "aria-label": "Tag value" });
    const error = h("p", { class: "field-error", role: "alert" });
    return h(
      "form",
      {
        class: "inline-form",
        on: {
          submit: async (event) => {
            event.preventDefault();
            const k = key.value.trim();
            if (!k) return;
            error.textContent = "";
            try {
              await onSet(k, value.value);
              list = [...list.filter((t) => t.key !== k), { key: k, value: value.value }].sort(
                (a, b) => a.key.localeCompare(b.key),
              );
              toast(`Tag ${k} set`);
              draw();
              host.querySelector("input[aria-label='Tag key']")?.focus();
            } catch (err) {
              error.textContent = err.message;
            }
          },
        },
      },
      h("label", { class: "field inline" }, h("span", { text: "Key" }), key),
      h("label", { class: "field inline" }, h("span", { text: "Value" }), value),
      h("button", { class: "btn", type: "submit" }, icon("plus"), "Set tag"),
      error,
    );
  }

  draw();
  return host;
}
