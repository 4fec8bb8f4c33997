/**
 * Who is signed in, in the top bar, with a sign-out button. With authentication off
 * there is no one to show and nothing to sign out of, so the bar stays empty.
 */

import { h, mount } from "../dom.js";

export function whoami(host, current) {
  if (!current?.auth_enabled || !current.user) return mount(host);
  const { username, is_admin: admin } = current.user;
  return mount(
    host,
    h(
      "span",
      { class: "whoami-name", title: `Signed in as ${username}` },
      h("span", { class: "visually-hidden", text: "Signed in as " }),
      username,
      admin ? h("span", { class: "badge plain-badge", text: "admin" }) : null,
    ),
    // A plain form POST: the server ends the session and sends the browser to sign in.
    h(
      "form",
      { method: "post", action: "/auth/logout", class: "signout" },
      h("button", { class: "btn small", type: "submit" }, "Sign out"),
    ),
  );
}
