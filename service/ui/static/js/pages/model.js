/**
 * One registered model (its versions, aliases, tags; set or move an alias) and one model
 * version (source run, stage, tags, aliases).
 */

import { permission, registry } from "../api.js";
import { h, icon, link, mount } from "../dom.js";
import { confirm } from "../components/dialog.js";
import { descriptionEditor, tagEditor } from "../components/editing.js";
import { stageBadge } from "../components/status.js";
import { empty, loading, toast } from "../components/states.js";
import { chip, table } from "../components/table.js";
import * as fmt from "../format.js";

const STAGES = ["None", "Staging", "Production", "Archived"];

function crumbs(...parts) {
  const items = [link(["models"], "Models")];
  for (const part of parts) items.push(h("span", { text: "/" }), part);
  return h("nav", { class: "crumbs", "aria-label": "Breadcrumb" }, items, h("span", { text: "/" }));
}

export async function renderModel(page, ctx) {
  const [name] = ctx.params;
  ctx.setTitle(name);
  mount(page, loading());
  const [{ registered_model: model }, versions, access] = await Promise.all([
    registry.getModel(name, ctx.signal),
    allVersions(name, ctx.signal),
    permission({ modelName: name }, ctx.signal),
  ]);
  const canEdit = access.may("EDIT");

  const aliasHost = h("div");
  const drawAliases = (aliases) =>
    mount(
      aliasHost,
      aliasEditor(model.name, aliases, versions, async () => {
        const fresh = await registry.getModel(name, ctx.signal);
        model.aliases = fresh.registered_model.aliases || [];
        drawAliases(model.aliases);
        drawVersions();
      }),
    );
  const versionHost = h("div");
  const drawVersions = () => {
    const byVersion = new Map();
    for (const a of model.aliases || [])
      byVersion.set(a.version, [...(byVersion.get(a.version) || []), a.alias]);
    mount(
      versionHost,
      versions.length
        ? table(
            [
              {
                label: "Version",
                class: "nowrap",
                cell: (v) =>
                  link(["models", name, "versions", v.version], `Version ${v.version}`, {
                    class: "strong",
                  }),
              },
              {
                label: "Registered",
                class: "col-time",
                cell: (v) =>
                  h("span", {
                    title: fmt.date(v.creation_timestamp),
                    text: fmt.ago(v.creation_timestamp),
                  }),
              },
              { label: "Stage", cell: (v) => stageBadge(v.current_stage) },
              {
                label: "Aliases",
                cell: (v) =>
                  h(
                    "div",
                    { class: "chips" },
                    (byVersion.get(String(v.version)) || []).map((a) => chip(`@${a}`)),
                  ),
              },
              {
                label: "Source run",
                cell: (v) =>
                  v.run_id
                    ? link(["runs", v.run_id], v.run_id.slice(0, 12), {
                        class: "mono",
                        title: v.run_id,
                      })
                    : "—",
              },
              {
                label: "Status",
                class: "hide-narrow",
                cell: (v) => (v.status || "").toLowerCase().replace(/_/g, " "),
              },
              {
                label: "Description",
                class: "col-desc hide-narrow",
                cell: (v) => h("span", { class: "clip muted", text: v.description || "" }),
              },
            ],
            versions,
          )
        : empty("No versions yet.", "Register a model to this name to create version 1."),
    );
  };

  mount(
    page,
    crumbs(),
    h(
      "div",
      { class: "page-head" },
      h(
        "div",
        null,
        h("h1", { text: model.name }),
        h("p", {
          class: "subtle",
          text: `Created ${fmt.date(model.creation_timestamp)} · updated ${fmt.ago(model.last_updated_timestamp)}`,
        }),
      ),
      access.may("MANAGE")
        ? deleteButton(`Delete model ${name}`, async () => {
            const sure = await confirm({
              title: `Delete ${name}?`,
              message: `All ${versions.length} versions and their aliases are deleted. This cannot be undone.`,
              action: "Delete",
              danger: true,
            });
            if (!sure) return;
            await registry.deleteModel(name);
            toast(`Model ${name} deleted`);
            window.location.hash = "#/models";
          })
        : null,
    ),
    h(
      "section",
      { class: "section" },
      h("h2", { text: "Description" }),
      descriptionEditor({
        value: model.description,
        canEdit,
        onSave: (text) => registry.updateModel(name, text),
      }),
    ),
    h("section", { class: "section" }, h("h2", { text: "Aliases" }), aliasHost),
    h(
      "section",
      { class: "section" },
      h("h2", { text: `Versions (${versions.length})` }),
      versionHost,
    ),
    h(
      "section",
      { class: "section" },
      h("h2", { text: "Tags" }),
      tagEditor({
        tags: model.tags,
        canEdit,
        onSet: (key, value) => registry.setModelTag(name, key, value),
        onDelete: (key) => registry.deleteModelTag(name, key),
      }),
    ),
  );
  drawAliases(model.aliases || []);
  drawVersions();
}

async function allVersions(name, signal) {
  const versions = [];
  let token;
  do {
    const result = await registry.searchVersions(
      {
        filter: `name = '${name.replace(/'/g, "''")}'`,
        max_results: 1000,
        order_by: "version_number DESC",
        page_token: token,
      },
      signal,
    );
    versions.push(...(result.model_versions || []));
    token = result.next_page_token;
  } while (token);
  return versions;
}

/** Aliases as chips (× removes one), and a form that sets an alias or moves it to another version. */
function aliasEditor(name, aliases, versions, refresh) {
  const alias = h("input", {
    type: "text",
    placeholder: "champion",
    required: true,
    "aria-label": "Alias",
    autocomplete: "off",
    pattern: "[A-Za-z0-9_\\-]+",
  });
  const version = h(
    "select",
    { "aria-label": "Version" },
    versions.map((v) => h("option", { value: String(v.version), text: `Version ${v.version}` })),
  );
  const error = h("p", { class: "field-error", role: "alert" });
  const form = h(
    "form",
    {
      class: "inline-form",
      on: {
        submit: async (event) => {
          event.preventDefault();
          const value = alias.value.trim();
          if (!value) return;
          error.textContent = "";
          try {
            await registry.setAlias(name, value, version.value);
            toast(`@${value} now points to version ${version.value}`);
            await refresh();
          } catch (err) {
            error.textContent = err.message;
          }
        },
      },
    },
    h("label", { class: "field inline" }, h("span", { text: "Alias" }), alias),
    h("label", { class: "field inline" }, h("span", { text: "Version" }), version),
    h("button", { class: "btn primary", type: "submit", disabled: !versions.length }, "Set alias"),
  );
  const chips = aliases.length
    ? h(
        "div",
        { class: "chips" },
        aliases.map((a) =>
          chip(`@${a.alias}`, {
            class: "alias",
            after: [
              h("span", { class: "chip-version", text: ` → v${a.version}` }),
              h(
                "button",
                {
                  class: "chip-remove",
                  type: "button",
                  title: `Remove @${a.alias}`,
                  "aria-label": `Remove alias ${a.alias}`,
                  on: {
                    click: async () => {
                      if (
                        !(await confirm({
                          title: `Remove @${a.alias}?`,
                          message: `Loading models:/${name}@${a.alias} will stop working.`,
                          action: "Remove",
                          danger: true,
                        }))
                      )
                        return;
                      try {
                        await registry.deleteAlias(name, a.alias);
                        toast(`@${a.alias} removed`);
                        await refresh();
                      } catch (err) {
                        toast(err.message, "error");
                      }
                    },
                  },
                },
                icon("x"),
              ),
            ],
          }),
        ),
      )
    : h("p", {
        class: "muted",
        text: "No aliases. Point one at a version so code can load models:/name@alias.",
      });
  return h("div", { class: "alias-editor" }, chips, form, error);
}

export async function renderVersion(page, ctx) {
  const [name, number] = ctx.params;
  ctx.setTitle(`${name} v${number}`);
  mount(page, loading());
  const [{ model_version: version }, access] = await Promise.all([
    registry.getVersion(name, number, ctx.signal),
    permission({ modelName: name }, ctx.signal),
  ]);
  const canEdit = access.may("EDIT");
  const stageSelect = h(
    "select",
    {
      "aria-label": "Stage",
      on: {
        change: async () => {
          try {
            await registry.transitionStage(name, number, stageSelect.value);
            toast(`Version ${number} moved to ${stageSelect.value}`);
          } catch (error) {
            toast(error.message, "error");
            stageSelect.value = version.current_stage || "None";
          }
        },
      },
    },
    STAGES.map((s) =>
      h("option", { value: s, text: s, selected: (version.current_stage || "None") === s }),
    ),
  );
  mount(
    page,
    crumbs(link(["models", name], name)),
    h(
      "div",
      { class: "page-head" },
      h(
        "div",
        { class: "title-row" },
        h("h1", { text: `Version ${version.version}` }),
        stageBadge(version.current_stage),
        (version.aliases || []).map((a) => chip(`@${a}`, { class: "alias" })),
      ),
      access.may("MANAGE")
        ? deleteButton(`Delete version ${number}`, async () => {
            const sure = await confirm({
              title: `Delete version ${number} of ${name}?`,
              message: "Code loading this version will stop working. This cannot be undone.",
              action: "Delete",
              danger: true,
            });
            if (!sure) return;
            await registry.deleteVersion(name, number);
            toast(`Version ${number} deleted`);
            window.location.hash = `#/models/${encodeURIComponent(name)}`;
          })
        : null,
    ),
    h(
      "dl",
      { class: "facts" },
      [
        ["Registered", fmt.date(version.creation_timestamp)],
        ["Last updated", fmt.date(version.last_updated_timestamp)],
        [
          "Source run",
          version.run_id ? link(["runs", version.run_id], version.run_id, { class: "mono" }) : "—",
        ],
        [
          "Source",
          h("span", {
            class: "mono clip",
            title: version.source || "",
            text: version.source || "—",
          }),
        ],
        [
          "Logged model",
          version.model_id ? h("span", { class: "mono", text: version.model_id }) : "—",
        ],
        ["Status", (version.status || "").toLowerCase().replace(/_/g, " ") || "—"],
        ["Stage", stageSelect],
      ].map(([k, v]) =>
        h(
          "div",
          { class: k === "Source run" || k === "Source" ? "fact wide" : "fact" },
          h("dt", { text: k }),
          h("dd", null, v),
        ),
      ),
    ),
    h(
      "section",
      { class: "section" },
      h("h2", { text: "Description" }),
      descriptionEditor({
        value: version.description,
        canEdit,
        onSave: (text) => registry.updateVersion(name, number, text),
      }),
    ),
    h(
      "section",
      { class: "section" },
      h("h2", { text: "Tags" }),
      tagEditor({
        tags: version.tags,
        canEdit,
        onSet: (key, value) => registry.setVersionTag(name, number, key, value),
        onDelete: (key) => registry.deleteVersionTag(name, number, key),
      }),
    ),
  );
}

/** A danger button that runs ``action``; a refusal is shown as a toast. */
function deleteButton(label, action) {
  return h(
    "button",
    {
      class: "btn danger",
      type: "button",
      on: {
        click: async () => {
          try {
            await action();
          } catch (error) {
            toast(error.message, "error");
          }
        },
      },
    },
    icon("trash"),
    label,
  );
}
