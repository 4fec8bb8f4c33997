/**
 * The sign-in prompt, shown when the API answers 401. Stratus does not log users in
 * itself: "Sign in" reloads the page, so the server (or the identity-aware proxy in front
 * of it) can challenge the browser and bring the user back here.
 */

import { h } from "../dom.js";

let shown = null;

export function showSignIn() {
  if (shown) return;
  shown = h(
    "div",
    { class: "overlay", role: "dialog", "aria-modal": "true", "aria-labelledby": "signin-title" },
    h(
      "div",
      { class: "dialog signin" },
      h("h2", { id: "signin-title", text: "Sign in to continue" }),
      h("p", { text: "Your session has ended, or you are not signed in to this Stratus server." }),
      h(
        "div",
        { class: "dialog-actions" },
        h("button", { class: "btn primary", type: "button", on: { click: () => window.location.reload() } }, "Sign in"),
      ),
    ),
  );
  document.body.append(shown);
  shown.querySelector("button").focus();
}
