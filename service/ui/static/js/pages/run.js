/**
 * One run: overview (params, metrics, tags, datasets, logged models, child runs), charts
 * of every metric, and the artifact browser. Tabs are recorded in the address.
 */

import { artifacts, experiments, loggedModels, permission, quote, registry, runs } from "../api.js";
import { debounce, h, icon, link, mount } from "../dom.js";
import { artifactBrowser } from "../components/artifacts.js";
import { chartGrid, runColor, xAxisControls } from "../components/charts.js";
import { smoothingSlider, toggle } from "../components/controls.js";
import { prompt } from "../components/dialog.js";
import { liveRefresh } from "../components/live.js";
import { descriptionEditor, tagEditor } from "../components/editing.js";
import { statusBadge } from "../components/status.js";
import { empty, failure, loading, snippet, toast } from "../components/states.js";
import { keyValues, table } from "../components/table.js";
import * as fmt from "../format.js";

const TABS = [
  ["overview", "Overview"],
  ["charts", "Charts"],
  ["artifacts", "Artifacts"],
];

export async function render(page, ctx) {
  const [runId] = ctx.params;
  mount(page, loading());
  const { run } = await runs.get(runId, ctx.signal);
  const { info } = run;
  const tags = fmt.pairs(run.data.tags);
  const [experiment, access] = await Promise.all([
    experiments.get(info.experiment_id, ctx.signal).then(
      (r) => r.experiment,
      () => null,
    ),
    permission({ experimentId: info.experiment_id }, ctx.signal),
  ]);
  // Deleted runs are read-only on the server, so they get no editing controls either.
  ctx.canEdit = access.may("EDIT") && info.lifecycle_stage !== "deleted";
  ctx.setTitle(fmt.runName(info));
  const title = h("h1", { text: fmt.runName(info) });
  let badge = statusBadge(info.status);
  const renameButton = ctx.canEdit
    ? h(
        "button",
        {
          class: "btn small ghost",
          type: "button",
          "aria-label": "Rename run",
          title: "Rename run",
          on: {
            click: async () => {
              const name = await prompt({
                title: "Rename run",
                label: "New name",
                value: fmt.runName(info),
                action: "Rename",
                submit: (value) => runs.rename(info.run_id, value),
              });
              if (!name) return;
              info.run_name = name;
              title.textContent = name;
              ctx.setTitle(name);
              toast("Run renamed");
            },
          },
        },
        icon("edit"),
      )
    : null;

  const panel = h("div", {
    class: "tab-panel",
    role: "tabpanel",
    id: "run-tabpanel",
    tabindex: "0",
  });
  let tab = ctx.query.get("tab") || "overview";
  let cleanup = null;
  const tabButtons = TABS.map(([id, label]) =>
    h(
      "button",
      {
        class: "tab",
        type: "button",
        role: "tab",
        id: `tab-${id}`,
        "aria-controls": "run-tabpanel",
        "aria-selected": String(id === tab),
        tabindex: id === tab ? "0" : "-1",
        on: { click: () => select(id) },
      },
      label,
      id === "charts"
        ? h("span", { class: "tab-count", text: String((run.data.metrics || []).length) })
        : null,
    ),
  );
  // Tabs (WAI-ARIA): one tab stop; arrow keys, Home and End move between tabs and open them.
  const tabList = h(
    "div",
    {
      class: "tabs",
      role: "tablist",
      "aria-label": "Run",
      on: {
        keydown: (event) => {
          const at = TABS.findIndex(([id]) => id === tab);
          const next = {
            ArrowRight: (at + 1) % TABS.length,
            ArrowLeft: (at - 1 + TABS.length) % TABS.length,
            Home: 0,
            End: TABS.length - 1,
          }[event.key];
          if (next === undefined) return;
          event.preventDefault();
          select(TABS[next][0]);
          tabButtons[next].focus();
        },
      },
    },
    tabButtons,
  );

  function select(id) {
    tab = id;
    ctx.setQuery({
      tab: id === "overview" ? null : id,
      artifact: id === "artifacts" ? ctx.query.get("artifact") : null,
    });
    tabButtons.forEach((b, i) => {
      b.setAttribute("aria-selected", String(TABS[i][0] === id));
      b.setAttribute("tabindex", TABS[i][0] === id ? "0" : "-1");
    });
    panel.setAttribute("aria-labelledby", `tab-${id}`);
    cleanup?.();
    cleanup = null;
    if (id === "overview") mount(panel, overview(run, ctx));
    else if (id === "charts") cleanup = charts(panel, run, ctx);
    else mount(panel, artifactsTab(run, ctx));
  }
  ctx.onCleanup(() => cleanup?.());

  const parent = tags.get("mlflow.parentRunId");
  mount(
    page,
    h(
      "nav",
      { class: "crumbs", "aria-label": "Breadcrumb" },
      link(["experiments"], "Experiments"),
      h("span", { text: "/" }),
      link(
        ["experiments", info.experiment_id],
        experiment ? experiment.name : `Experiment ${info.experiment_id}`,
      ),
      h("span", { text: "/" }),
    ),
    h(
      "div",
      { class: "page-head" },
      h(
        "div",
        { class: "title-row" },
        title,
        renameButton,
        badge,
        info.lifecycle_stage === "deleted"
          ? h("span", { class: "badge muted-badge", text: "deleted" })
          : null,
      ),
    ),
    h(
      "dl",
      { class: "facts" },
      fact("Run ID", h("span", { class: "mono", text: info.run_id }), true),
      fact("Started", fmt.date(info.start_time)),
      fact("Duration", fmt.duration(fmt.runDuration(info))),
      fact("User", info.user_id || tags.get("mlflow.user") || "—"),
      fact("Source", sourceText(tags)),
      parent ? fact("Parent run", link(["runs", parent], parent, { class: "mono" }), true) : null,
      fact(
        "Traces",
        link(["experiments", info.experiment_id, "traces"], "Traces of this run", {
          query: { filter: `trace.run_id = ${quote(info.run_id)}` },
        }),
      ),
    ),
    tabList,
    panel,
  );
  select(tab);

  // A running run: its charts and status refresh on their own until it ends.
  liveRefresh({
    signal: ctx.signal,
    active: () => run.info.status === "RUNNING",
    refresh: async () => {
      const { run: fresh } = await runs.get(runId, ctx.signal);
      const before = JSON.stringify([run.info.status, run.data.metrics]);
      if (JSON.stringify([fresh.info.status, fresh.data.metrics]) === before) return false;
      Object.assign(run.info, fresh.info);
      run.data.metrics = fresh.data.metrics;
      const next = statusBadge(run.info.status);
      badge.replaceWith(next);
      badge = next;
      if (tab === "charts") select("charts");
      return true;
    },
  });
}

function fact(label, value, wide = false) {
  return h(
    "div",
    { class: wide ? "fact wide" : "fact" },
    h("dt", { text: label }),
    h("dd", null, value),
  );
}

function sourceText(tags) {
  const name = tags.get("mlflow.source.name");
  if (!name) return "—";
  const commit = tags.get("mlflow.source.git.commit");
  return h(
    "span",
    { class: "clip", title: name },
    name,
    commit ? h("span", { class: "muted mono", text: ` @ ${commit.slice(0, 8)}` }) : null,
  );
}

// --- overview ---------------------------------------------------------------------------

function overview(run, ctx) {
  const tags = run.data.tags || [];
  const description = fmt.pairs(tags).get("mlflow.note.content");
  const userTags = tags.filter((t) => !fmt.SYSTEM_TAG.test(t.key));
  const systemTags = tags.filter((t) => fmt.SYSTEM_TAG.test(t.key));
  const editableTags = () =>
    tagEditor({
      tags: run.data.tags,
      canEdit: ctx.canEdit,
      onSet: async (key, value) => {
        await runs.setTag(run.info.run_id, key, value);
        run.data.tags = [...(run.data.tags || []).filter((t) => t.key !== key), { key, value }];
      },
      onDelete: async (key) => {
        await runs.deleteTag(run.info.run_id, key);
        run.data.tags = (run.data.tags || []).filter((t) => t.key !== key);
      },
    });
  const tagHost = h("div", null, editableTags());
  const metricsList = [...(run.data.metrics || [])].sort((a, b) => a.key.localeCompare(b.key));
  const children = h("div", null, loading());
  loadChildren(run, children, ctx);
  return h(
    "div",
    { class: "overview" },
    description || ctx.canEdit
      ? section(
          "Description",
          descriptionEditor({
            value: description,
            canEdit: ctx.canEdit,
            onSave: (text) => runs.setTag(run.info.run_id, "mlflow.note.content", text),
          }),
        )
      : null,
    h(
      "div",
      { class: "columns-2" },
      section(
        `Parameters (${(run.data.params || []).length})`,
        keyValues(
          [...(run.data.params || [])].sort((a, b) => a.key.localeCompare(b.key)),
          { empty: "No parameters" },
        ),
      ),
      section(
        `Metrics (${metricsList.length})`,
        keyValues(
          metricsList.map((m) => ({ key: m.key, value: m })),
          {
            empty: "No metrics",
            valueCell: (item) =>
              h("span", {
                class: "num",
                title: `step ${item.value.step || 0} · ${fmt.date(item.value.timestamp)}`,
                text: fmt.number(item.value.value),
              }),
          },
        ),
      ),
    ),
    section(
      `Tags (${userTags.length})`,
      systemTags.length
        ? toggle(`Show ${systemTags.length} system tags`, false, (on) =>
            mount(
              tagHost,
              on ? keyValues(run.data.tags || [], { empty: "No tags" }) : editableTags(),
            ),
          )
        : null,
      tagHost,
    ),
    section("Datasets", datasets(run)),
    section("Logged models", loggedModelsSection(run, ctx)),
    section("Registered versions", registeredVersions(run, ctx)),
    section("Child runs", children),
  );
}

function section(title, ...content) {
  return h("section", { class: "section" }, h("h2", { text: title }), ...content);
}

function datasets(run) {
  const inputs = run.inputs?.dataset_inputs || [];
  if (!inputs.length) return h("p", { class: "muted", text: "No datasets logged" });
  return table(
    [
      { label: "Name", cell: (d) => h("span", { class: "strong", text: d.dataset.name }) },
      { label: "Context", cell: (d) => fmt.pairs(d.tags).get("mlflow.data.context") || "—" },
      { label: "Digest", class: "mono", cell: (d) => d.dataset.digest },
      {
        label: "Source",
        cell: (d) =>
          h("span", {
            class: "clip",
            title: d.dataset.source || "",
            text: `${d.dataset.source_type || ""} ${describeSource(d.dataset.source)}`.trim(),
          }),
      },
      {
        label: "Schema",
        cell: (d) => (d.dataset.schema ? details("Schema", prettyJson(d.dataset.schema)) : "—"),
      },
      {
        label: "Profile",
        class: "hide-narrow",
        cell: (d) => (d.dataset.profile ? details("Profile", prettyJson(d.dataset.profile)) : "—"),
      },
    ],
    inputs,
  );
}

function describeSource(source) {
  try {
    const parsed = JSON.parse(source);
    return parsed.uri || parsed.url || parsed.path || source;
  } catch {
    return source || "";
  }
}

function prettyJson(text) {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

function details(summary, text) {
  return h(
    "details",
    { class: "inline-details" },
    h("summary", { text: summary }),
    h("pre", { class: "code" }, text),
  );
}

function loggedModelsSection(run, ctx) {
  const outputs = (run.outputs?.model_outputs || []).map((o) => ({
    id: o.model_id,
    step: o.step,
    direction: "output",
  }));
  const inputs = (run.inputs?.model_inputs || []).map((o) => ({
    id: o.model_id,
    direction: "input",
  }));
  const all = [...outputs, ...inputs];
  if (!all.length) return h("p", { class: "muted", text: "No logged models" });
  const host = h("div", { class: "model-list" }, loading());
  Promise.all(
    all.map((ref) =>
      loggedModels.get(ref.id, ctx.signal).then(
        (r) => ({ ref, model: r.model }),
        (error) => ({ ref, error }),
      ),
    ),
  ).then((found) => {
    mount(
      host,
      found.map(({ ref, model, error }) => loggedModelCard(ref, model, error, ctx)),
    );
  });
  return host;
}

function loggedModelCard(ref, model, error, ctx) {
  if (error)
    return h(
      "div",
      { class: "model-card" },
      h("p", null, h("span", { class: "mono", text: ref.id }), " — ", error.message),
    );
  const info = model.info;
  const root = artifacts.root(info.artifact_uri);
  const files = h("div");
  let open = false;
  const button = h(
    "button",
    {
      class: "btn small",
      type: "button",
      disabled: !root,
      on: {
        click: () => {
          open = !open;
          button.lastChild.textContent = open ? "Hide files" : "Browse files";
          mount(files, open ? artifactBrowser(root, ctx.signal) : null);
        },
      },
    },
    icon("folder"),
    "Browse files",
  );
  return h(
    "div",
    { class: "model-card" },
    h(
      "div",
      { class: "model-head" },
      h("span", { class: "strong", text: info.name }),
      h("span", {
        class: "badge plain-badge",
        text: ref.direction === "input" ? "input" : `output · step ${ref.step || 0}`,
      }),
      h("span", {
        class: "badge muted-badge",
        text: (info.status || "").replace("LOGGED_MODEL_", "").toLowerCase(),
      }),
      h("span", { class: "spacer" }),
      ctx.canEdit && ref.direction === "output" ? registerButton(info, ctx) : null,
      button,
    ),
    h(
      "p",
      { class: "muted small" },
      h("span", { class: "mono", text: info.model_id }),
      info.model_type ? ` · ${info.model_type}` : "",
      ` · ${fmt.date(info.creation_timestamp_ms)}`,
    ),
    files,
  );
}

/** Register a logged model of this run as a new version of a (new or existing) model. */
function registerButton(model, ctx) {
  return h(
    "button",
    {
      class: "btn small",
      type: "button",
      "aria-label": `Register ${model.name}`,
      on: {
        click: async () => {
          let created = null;
          const name = await prompt({
            title: `Register ${model.name}`,
            label: "Registered model name",
            value: model.name,
            action: "Register",
            submit: async (value) => {
              try {
                await registry.createModel(value);
              } catch (error) {
                if (error.code !== "RESOURCE_ALREADY_EXISTS") throw error;
              }
              created = (
                await registry.createVersion(
                  value,
                  `models:/${model.model_id}`,
                  model.source_run_id,
                  model.model_id,
                )
              ).model_version;
            },
          });
          if (!name || !created) return;
          toast(`Registered as ${name} version ${created.version}`);
          ctx.refreshRegistered?.();
        },
      },
    },
    "Register",
  );
}

/** The model versions registered from this run: "Registered as churn-model v3". */
function registeredVersions(run, ctx) {
  const host = h("div", null, loading());
  const load = async () => {
    try {
      const found = await registry.searchVersions(
        { filter: `run_id = ${quote(run.info.run_id)}`, max_results: 100 },
        ctx.signal,
      );
      const versions = found.model_versions || [];
      mount(
        host,
        versions.length
          ? h(
              "ul",
              { class: "registered-list" },
              versions.map((v) =>
                h(
                  "li",
                  null,
                  "Registered as ",
                  link(
                    ["models", v.name, "versions", v.version],
                    `${v.name} version ${v.version}`,
                    {
                      class: "strong",
                    },
                  ),
                ),
              ),
            )
          : h("p", { class: "muted", text: "Not registered in the model registry." }),
      );
    } catch (error) {
      mount(host, failure(error));
    }
  };
  ctx.refreshRegistered = load;
  load();
  return host;
}

async function loadChildren(run, host, ctx) {
  try {
    const result = await runs.search(
      {
        experiment_ids: [run.info.experiment_id],
        filter: `tags.mlflow.parentRunId = ${quote(run.info.run_id)}`,
        max_results: 100,
      },
      ctx.signal,
    );
    const kids = result.runs || [];
    if (!kids.length) return mount(host, h("p", { class: "muted", text: "No child runs" }));
    mount(
      host,
      table(
        [
          { label: "Run", cell: (r) => link(["runs", r.info.run_id], fmt.runName(r.info)) },
          { label: "Status", cell: (r) => statusBadge(r.info.status) },
          { label: "Started", cell: (r) => fmt.date(r.info.start_time) },
          { label: "Duration", cell: (r) => fmt.duration(fmt.runDuration(r.info)) },
        ],
        kids,
      ),
      result.next_page_token
        ? h("p", {
            class: "muted small",
            text: "Showing the first 100 child runs; the experiment's runs table lists them all.",
          })
        : null,
    );
  } catch (error) {
    mount(host, failure(error));
  }
}

// --- charts -----------------------------------------------------------------------------

function charts(panel, run, ctx) {
  const keys = [...new Set((run.data.metrics || []).map((m) => m.key))].sort();
  if (!keys.length) {
    mount(
      panel,
      empty(
        "No metrics logged.",
        "Log one from Python:",
        snippet('mlflow.log_metric("loss", 0.25, step=1)'),
      ),
    );
    return null;
  }
  const options = {
    xAxis: ctx.query.get("x") || "step",
    logScale: ctx.query.get("log") === "1",
    smoothing: Number(ctx.query.get("smooth")) || 0,
  };
  const xAxis = xAxisControls(keys, options.xAxis, (x) => {
    options.xAxis = x;
    ctx.setQuery({ x: x === "step" ? null : x });
    draw();
  });
  const series = [
    {
      id: run.info.run_id,
      label: fmt.runName(run.info),
      color: runColor(0),
      start: Number(run.info.start_time),
    },
  ];
  const host = h("div");
  let current = null;
  const draw = () => {
    current?.destroy();
    current = chartGrid(keys, series, options, ctx);
    mount(host, current.element);
    applyFilter();
  };
  const applyFilter = () => {
    const needle = filter.value.trim().toLowerCase();
    ctx.setQuery({ metric: filter.value.trim() });
    host.querySelectorAll(".chart-card").forEach((card) => {
      card.hidden = needle !== "" && !card.dataset.metric.toLowerCase().includes(needle);
    });
  };
  const filter = h("input", {
    type: "search",
    value: ctx.query.get("metric") || "",
    placeholder: `Filter ${keys.length} metrics`,
    "aria-label": "Filter metrics",
    on: { input: applyFilter },
  });
  mount(
    panel,
    h(
      "div",
      { class: "toolbar" },
      xAxis,
      toggle("Log scale", options.logScale, (on) => {
        options.logScale = on;
        ctx.setQuery({ log: on ? "1" : null });
        draw();
      }),
      smoothingSlider(
        options.smoothing,
        debounce((v) => {
          options.smoothing = v;
          ctx.setQuery({ smooth: v ? String(v) : null });
          draw();
        }, 150),
      ),
      h("span", { class: "spacer" }),
      keys.length > 6 || filter.value ? filter : null,
    ),
    h("h2", { class: "visually-hidden", text: "Metric charts" }),
    h("p", {
      class: "muted small hint",
      text: "Drag across a chart to zoom in; double-click to zoom out.",
    }),
    host,
  );
  draw();
  return () => current?.destroy();
}

// --- artifacts --------------------------------------------------------------------------

function artifactsTab(run, ctx) {
  const root = artifacts.root(run.info.artifact_uri);
  if (!root) {
    return empty(
      "Artifacts are not served by this server.",
      "This run stores them at ",
      h("code", { text: run.info.artifact_uri || "(no location)" }),
      ".",
    );
  }
  return artifactBrowser(root, ctx.signal, {
    open: ctx.query.get("artifact"),
    onSelect: (path) => ctx.setQuery({ artifact: path }),
  });
}
