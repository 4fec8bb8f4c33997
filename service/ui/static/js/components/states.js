/** Loading, empty and error states, the same everywhere. */

import { h } from "../dom.js";

export function loading(label = "Loading…") {
  return h(
    "div",
    { class: "state loading", role: "status" },
    h("span", { class: "spinner" }),
    label,
  );
}

export function empty(title, ...hint) {
  return h(
    "div",
    { class: "state empty" },
    h("p", { class: "state-title", text: title }),
    hint.length ? h("div", { class: "state-hint" }, ...hint) : null,
  );
}

/** An API or network failure, with its MLflow error code and message shown as text. */
export function failure(error, retry) {
  if (error && error.name === "AbortError") return null;
  const title =
    error?.status === 404
      ? "Not found"
      : error?.status === 403
        ? "You do not have permission to see this"
        : error?.status === 401
          ? "Sign in required"
          : "Something went wrong";
  return h(
    "div",
    { class: "state error", role: "alert" },
    h("p", { class: "state-title", text: title }),
    h(
      "p",
      { class: "state-hint" },
      error?.code ? h("code", { text: error.code }) : null,
      " ",
      String(error?.message || error),
    ),
    retry ? h("button", { class: "btn", type: "button", on: { click: retry } }, "Try again") : null,
  );
}

/** A short-lived notice in the corner: "Alias set", or an error message. */
export function toast(message, kind = "info") {
  let host = document.querySelector(".toasts");
  if (!host) {
    host = h("div", { class: "toasts", "aria-live": "polite" });
    document.body.append(host);
  }
  const note = h("div", { class: `toast ${kind}`, text: message });
  host.append(note);
  setTimeout(() => note.remove(), kind === "error" ? 8000 : 3500);
}

/** An inline code snippet, for empty states that say how to log something. */
export function snippet(text) {
  return h("pre", { class: "snippet" }, h("code", { text }));
}
