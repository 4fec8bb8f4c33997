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
