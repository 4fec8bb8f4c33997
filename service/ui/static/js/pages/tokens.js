/**
 * Personal access tokens: list yours, create one (its secret is shown once, here, and
 * never again) and revoke one. A token is what the mlflow client sends as
 * ``MLFLOW_TRACKING_TOKEN``. Without authentication on the server there are no users, so
 * the page says tokens are not needed.
 */

import { session, tokens } from "../api.js";
import { h, icon, mount } from "../dom.js";
import { confirm } from "../components/dialog.js";
import { empty, failure, loading, snippet, toast } from "../components/states.js";
import { table } from "../components/table.js";
import * as fmt from "../format.js";

/** The server answers this when it runs without authentication (service/http/auth.py). */

export async function render(page, ctx) {
  ctx.setTitle("Access tokens");
  const head = h(
    "div",
    { class: "page-head" },
    h(
      "div",
      null,
      h("h1", { text: "Access tokens" }),
      h("p", { class: "subtle", text: "Tokens let the mlflow client and scripts act as you." }),
    ),
  );
  const body = h("div", { class: "card" });
  mount(page, head, body);
  mount(body, loading());

  const me = (session.current || (await session.load())).user;
  if (!me) {
    mount(
      body,
      empty(
        "Authentication is off on this server; tokens are not needed.",
        "Anyone who can reach the server can use it. To require tokens, start it with:",
        snippet("STRATUS_AUTH_ENABLED=true stratus serve"),
      ),
    );
    return;
  }

  const reveal = h("div", { hidden: true });
  const list = h("div", { class: "card" });
  mount(page, head, createForm(), reveal, list);

  function createForm() {
    const name = h("input", {
      type: "text",
      name: "name",
      placeholder: "e.g. laptop, CI",
      maxLength: 256,
      autocomplete: "off",
    });
    const days = h("input", {
      type: "number",
      name: "expires_in_days",
      min: "1",
      step: "1",
      placeholder: "server default",
      class: "days",
    });
    const error = h("p", { class: "field-error", role: "alert" });
    const button = h(
      "button",
      { class: "btn primary", type: "submit" },
      icon("plus"),
      "Create token",
    );
    const form = h(
      "form",
      { class: "section" },
      h("h2", { text: "New token" }),
      h(
        "div",
        { class: "inline-form token-form" },
        h("label", { class: "field" }, h("span", { text: "Name" }), name),
        h("label", { class: "field" }, h("span", { text: "Expires in (days)" }), days),
        button,
      ),
      error,
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      button.disabled = true;
      error.textContent = "";
      try {
        const created = await tokens.create(
          name.value.trim(),
          days.value ? Number(days.value) : undefined,
        );
        form.reset();
        showSecret(created.token, created.access_token);
        await load();
      } catch (err) {
        error.textContent = err.message;
      } finally {
        button.disabled = false;
      }
    });
    return form;
  }

  /** The secret, once: it is dropped from the page when the user closes this panel. */
  function showSecret(secret, record) {
    const value = h("code", { class: "token-secret", text: secret, "aria-label": "New token" });
    const copy = h(
      "button",
      { class: "btn", type: "button", on: { click: () => copyText(secret) } },
      "Copy",
    );
    const done = h("button", { class: "btn", type: "button", on: { click: hideSecret } }, "Done");
    mount(
      reveal,
      h(
        "div",
        { class: "section token-reveal", role: "status" },
        h("h2", { text: `Token “${record.name || record.token_id}” created` }),
        h("p", {
          class: "muted",
          text: "Copy it now: it is shown only this once. Set it for the mlflow client as MLFLOW_TRACKING_TOKEN:",
        }),
        h("div", { class: "token-value" }, value, copy),
        snippet("export MLFLOW_TRACKING_TOKEN=<the token above>"),
        h("div", { class: "dialog-actions" }, done),
      ),
    );
    reveal.hidden = false;
  }

  function hideSecret() {
    mount(reveal);
    reveal.hidden = true;
  }

  async function copyText(text) {
    try {
      await navigator.clipboard.writeText(text);
      toast("Token copied");
    } catch {
      toast("Could not copy: select the token and copy it by hand.", "error");
    }
  }

  async function revoke(token) {
    const sure = await confirm({
      title: "Revoke token?",
      message: `Anything using “${token.name || token.token_id}” will be refused from now on. This cannot be undone.`,
      action: "Revoke",
      danger: true,
    });
    if (!sure) return;
    try {
      await tokens.revoke(token.token_id);
      toast("Token revoked");
      await load();
    } catch (error) {
      toast(error.message, "error");
    }
  }

  const columns = [
    {
      label: "Name",
      class: "col-name",
      cell: (t) => h("span", { class: "strong", text: t.name || "(unnamed)" }),
    },
    { label: "ID", class: "mono", cell: (t) => t.token_id },
    { label: "Created", class: "col-time", cell: (t) => fmt.date(t.creation_time) },
    { label: "Expires", class: "col-time", cell: (t) => fmt.date(t.expiry_time) },
    { label: "Status", cell: status },
    {
      label: "",
      class: "col-actions",
      cell: (t) =>
        t.revoked_time
          ? null
          : h(
              "button",
              {
                class: "btn small",
                type: "button",
                "aria-label": `Revoke ${t.name || t.token_id}`,
                on: { click: () => revoke(t) },
              },
              icon("trash"),
              "Revoke",
            ),
    },
  ];

  function status(t) {
    if (t.revoked_time)
      return h("span", {
        class: "badge bad-badge",
        title: fmt.date(t.revoked_time),
        text: "Revoked",
      });
    if (Number(t.expiry_time) <= Date.now())
      return h("span", { class: "badge muted-badge", text: "Expired" });
    return h("span", { class: "badge ok-badge", text: "Active" });
  }

  async function load() {
    try {
      const found = (await tokens.list(me.username, ctx.signal)).access_tokens || [];
      found.sort((a, b) => Number(b.creation_time) - Number(a.creation_time));
      mount(
        list,
        found.length
          ? table(columns, found, { rowClass: (t) => (t.revoked_time ? "deleted" : null) })
          : empty(
              `No tokens for ${me.username} yet.`,
              "Create one above, then use it from Python:",
              snippet("MLFLOW_TRACKING_TOKEN=stratus_pat_… python train.py"),
            ),
      );
    } catch (error) {
      mount(list, failure(error, load));
    }
  }

  await load();
}
