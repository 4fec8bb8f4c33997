/** Modal dialogs: a one-field form (create, rename) and a confirmation. */

import { h } from "../dom.js";

let dialogs = 0;

function open(title, content, onClose) {
  const previous = document.activeElement;
  const id = `dialog-title-${(dialogs += 1)}`;
  content.querySelector("h2").id = id;
  const overlay = h(
    "div",
    { class: "overlay", role: "dialog", "aria-modal": "true", "aria-labelledby": id },
    content,
  );
  const close = (result) => {
    overlay.remove();
    document.removeEventListener("keydown", onKey);
    previous?.focus?.();
    onClose(result);
  };
  const onKey = (event) => {
    if (event.key === "Escape") close(null);
    if (event.key === "Tab") trapFocus(overlay, event);
  };
  overlay.addEventListener("mousedown", (event) => {
    if (event.target === overlay) close(null);
  });
  document.addEventListener("keydown", onKey);
  document.body.append(overlay);
  return close;
}

const FOCUSABLE =
  'a[href], button:not([disabled]), input:not([disabled]), select, textarea, [tabindex="0"]';

/** Keep Tab and Shift+Tab inside ``container`` (a modal dialog), wrapping at either end. */
export function trapFocus(container, event) {
  const items = [...container.querySelectorAll(FOCUSABLE)].filter((el) => !el.hidden);
  if (!items.length) return;
  const first = items[0];
  const last = items[items.length - 1];
  const inside = container.contains(document.activeElement);
  if (event.shiftKey && (document.activeElement === first || !inside)) {
    event.preventDefault();
    last.focus();
  } else if (!event.shiftKey && (document.activeElement === last || !inside)) {
    event.preventDefault();
    first.focus();
  }
}

/**
 * Ask for one value. ``submit(value)`` may throw (an API error); its message is shown
 * inline and the dialog stays open. Resolves to the submitted value, or null.
 */
export function prompt({ title, label, value = "", action = "Save", submit }) {
  return new Promise((resolve) => {
    const input = h("input", {
      type: "text",
      value,
      required: true,
      "aria-label": label,
      autocomplete: "off",
    });
    const error = h("p", { class: "field-error", role: "alert" });
    const button = h("button", { class: "btn primary", type: "submit" }, action);
    const form = h(
      "form",
      { class: "dialog" },
      h("h2", { text: title }),
      h("label", { class: "field" }, h("span", { text: label }), input),
      error,
      h(
        "div",
        { class: "dialog-actions" },
        h("button", { class: "btn", type: "button", on: { click: () => close(null) } }, "Cancel"),
        button,
      ),
    );
    const close = open(title, form, resolve);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const text = input.value.trim();
      if (!text) return;
      button.disabled = true;
      error.textContent = "";
      try {
        await submit(text);
        close(text);
      } catch (err) {
        error.textContent = err.message;
        button.disabled = false;
      }
    });
    input.focus();
    input.select();
  });
}

/** Ask "are you sure?"; resolves to true or false. */
export function confirm({ title, message, action = "Confirm", danger = false }) {
  return new Promise((resolve) => {
    const ok = h(
      "button",
      {
        class: `btn ${danger ? "danger" : "primary"}`,
        type: "button",
        on: { click: () => close(true) },
      },
      action,
    );
    const box = h(
      "div",
      { class: "dialog" },
      h("h2", { text: title }),
      h("p", { text: message }),
      h(
        "div",
        { class: "dialog-actions" },
        h("button", { class: "btn", type: "button", on: { click: () => close(false) } }, "Cancel"),
        ok,
      ),
    );
    const close = open(title, box, (result) => resolve(Boolean(result)));
    ok.focus();
  });
}
