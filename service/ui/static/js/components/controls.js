/** Small form controls shared by pages. */

import { h } from "../dom.js";

/** A row of toggle buttons, one of which is pressed. */
export function segmented(options, selected, onChange) {
  const buttons = options.map(([value, label]) =>
    h(
      "button",
      {
        type: "button",
        class: "seg",
        "aria-pressed": String(value === selected),
        on: {
          click: () => {
            buttons.forEach((b, i) =>
              b.setAttribute("aria-pressed", String(options[i][0] === value)),
            );
            onChange(value);
          },
        },
      },
      label,
    ),
  );
  return h("div", { class: "segmented", role: "group" }, buttons);
}

/** A labelled checkbox that calls ``onChange(checked)``. */
export function toggle(label, checked, onChange) {
  const input = h("input", {
    type: "checkbox",
    checked,
    on: { change: () => onChange(input.checked) },
  });
  return h("label", { class: "toggle" }, input, h("span", { text: label }));
}

/** Chart smoothing, 0 (off) to 0.99, as a labelled range input. */
export function smoothingSlider(value, onChange) {
  const output = h("output", { class: "num small", text: value ? value.toFixed(2) : "off" });
  const input = h("input", {
    type: "range",
    min: "0",
    max: "0.99",
    step: "0.01",
    value: String(value),
    "aria-label": "Smoothing",
    on: {
      input: () => {
        const v = Number(input.value);
        output.textContent = v ? v.toFixed(2) : "off";
        onChange(v);
      },
    },
  });
  return h("label", { class: "toggle smoothing" }, h("span", { text: "Smoothing" }), input, output);
}
