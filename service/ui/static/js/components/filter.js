/** The filter box of a search page (the API's search grammar) and the place its error shows. */

import { h, icon } from "../dom.js";

/**
 * ``label`` names the box for screen readers; ``id`` is the error's element id. The
 * server's message for a bad filter goes in ``error`` (``showError``), never a crash.
 */
export function filterForm(initial, onSubmit, { label, placeholder, id = "filter-error" }) {
  const input = h("input", {
    type: "search",
    class: "filter mono",
    value: initial,
    spellcheck: false,
    placeholder,
    "aria-label": label,
  });
  const error = h("p", { class: "field-error", role: "alert", id });
  const element = h(
    "form",
    {
      class: "filter-form",
      on: {
        submit: (event) => {
          event.preventDefault();
          onSubmit(input.value.trim());
        },
      },
    },
    h("div", { class: "search-wrap grow" }, icon("search"), input),
    h("button", { class: "btn", type: "submit" }, "Search"),
  );
  return {
    element,
    error,
    input,
    showError(text) {
      error.textContent = text;
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", id);
    },
    clearError() {
      error.textContent = "";
      input.removeAttribute("aria-invalid");
    },
  };
}
