/**
 * The sign-in prompt, shown when the API answers 401. The UI does not log users in
 * itself: "Sign in" opens the server's sign-in page (service/http/signin.py), which sends
 * the user back to the page they were on, fragment included, once signed in.
 */

import { h } from "../dom.js";
import { trapFocus } from "./dialog.js";

const SIGN_IN_PAGE = "/auth/login";

let shown = null;

/** The sign-in page, asked to come back to this very address (fragment included). */
export function signInHref() {
  const here = `${window.location.pathname}${window.location.search}${window.location.hash}`;
  return `${SIGN_IN_PAGE}?next=${encodeURIComponent(here)}`;
}

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
        h("a", { class: "btn primary", href: signInHref() }, "Sign in"),
      ),
    ),
  );
  shown.addEventListener("keydown", (event) => {
    if (event.key === "Tab") trapFocus(shown, event);
  });
  document.body.append(shown);
  shown.querySelector("a").focus();
}
