/**
 * The runs of one experiment: a virtualised table that loads one page of the API at a
 * time as the user scrolls, with chosen metric/param/tag columns, server-side sort and
 * filter (the API's search grammar; errors shown inline), nested runs under their parent,
 * and a selection to compare, delete or restore.
 */

import { experiments, runs, searchKey } from "../api.js";
import { h, icon, link, mount, route } from "../dom.js";
import { segmented, toggle } from "../components/controls.js";
import { columnPicker } from "../components/columns.js";
import { confirm } from "../components/dialog.js";
import { statusBadge } from "../components/status.js";
import { empty, failure, loading, snippet, toast } from "../components/states.js";
import { VirtualGrid } from "../components/vgrid.js";
import * as fmt from "../format.js";

export const PAGE_SIZE = 200;
const PARENT_TAG = "mlflow.parentRunId";
const VIEWS = [
  ["ACTIVE_ONLY", "Active"],
  ["DELETED_ONLY", "Deleted"],
  ["ALL", "All"],
];

export async function render(page, ctx) {
  const [experimentId] = ctx.params;
  mount(page, loading());
  const { experiment } = await experiments.get(experimentId, ctx.signal);
  ctx.setTitle(experiment.name);

  const saved = JSON.parse(localStorage.getItem(`stratus.columns.${experimentId}`) || "null");
  const state = {
    filter: ctx.query.get("filter") || "",
    view: ctx.query.get("view") || "ACTIVE_ONLY",
    sort: {
      key: ctx.query.get("sort") || "attributes.start_time",
      desc: ctx.query.get("dir") !== "asc",
    },
    group: ctx.query.get("group") !== "0",
    columns: saved || null,
    runs: [],
    byId: new Map(),
    token: null,
    done: false,
    loading: null,
    expanded: new Set(),
    selected: new Set(),
    keys: { metrics: new Set(), params: new Set(), tags: new Set() },
  };

  const grid = new VirtualGrid({
    label: `Runs of ${experiment.name}`,
    onNearEnd: () => loadPage(),
    onSort: (key) => {
      state.sort = { key, desc: state.sort.key === key ? !state.sort.desc : true };
      ctx.setQuery({ sort: key, dir: state.sort.desc ? null : "asc" });
      reload();
    },
  });
  ctx.onCleanup(() => grid.destroy());

  const filterInput = h("input", {
    type: "search",
    class: "filter mono",
    value: state.filter,
    spellcheck: false,
    placeholder: "metrics.loss < 0.5 and params.optimizer = 'adam'",
    "aria-label": "Filter runs (search grammar)",
  });
  const filterError = h("p", { class: "field-error", role: "alert", id: "filter-error" });
  const filterForm = h(
    "form",
    {
      class: "filter-form",
      on: {
        submit: (event) => {
          event.preventDefault();
          state.filter = filterInput.value.trim();
          ctx.setQuery({ filter: state.filter });
          reload();
        },
      },
    },
    h("div", { class: "search-wrap grow" }, icon("search"), filterInput),
    h("button", { class: "btn", type: "submit" }, "Search"),
  );
  const status = h("span", { class: "muted run-count", role: "status" });
  const compareButton = h(
    "button",
    { class: "btn primary", type: "button", disabled: true, on: { click: compare } },
    icon("compare"),
    "Compare",
  );
  const lifecycleButton = h("button", {
    class: "btn",
    type: "button",
    disabled: true,
    on: { click: toggleDeleted },
  });
  const gridHost = h("div", { class: "grid-host" }, grid.element);
  const message = h("div", { class: "grid-message" });

  const description = fmt.pairs(experiment.tags).get("mlflow.note.content");
  mount(
    page,
    h(
      "nav",
      { class: "crumbs", "aria-label": "Breadcrumb" },
      link(["experiments"], "Experiments"),
      h("span", { text: "/" }),
    ),
    h(
      "div",
      { class: "page-head" },
      h(
        "div",
        null,
        h(
          "div",
          { class: "title-row" },
          h("h1", { text: experiment.name }),
          experiment.lifecycle_stage === "deleted"
            ? h("span", { class: "badge muted-badge", text: "deleted" })
            : null,
        ),
        h("p", {
          class: "subtle",
          text: `ID ${experiment.experiment_id} · created ${fmt.date(experiment.creation_time)}`,
        }),
      ),
    ),
    description ? h("p", { class: "description", text: description }) : null,
    h(
      "div",
      { class: "toolbar wrap" },
      filterForm,
      segmented(VIEWS, state.view, (view) => {
        state.view = view;
        ctx.setQuery({ view: view === "ACTIVE_ONLY" ? null : view });
        reload();
      }),
    ),
    filterError,
    h(
      "div",
      { class: "toolbar" },
      columnPicker({
        keys: () => state.keys,
        chosen: () => state.columns,
        onChange: (columns) => {
          state.columns = columns;
          localStorage.setItem(`stratus.columns.${experimentId}`, JSON.stringify(columns));
          drawColumns();
        },
      }),
      toggle("Group child runs", state.group, (on) => {
        state.group = on;
        ctx.setQuery({ group: on ? null : "0" });
        drawRows();
      }),
      h("span", { class: "spacer" }),
      status,
      lifecycleButton,
      compareButton,
    ),
    message,
    gridHost,
  );

  function updateSelection() {
    const n = state.selected.size;
    compareButton.disabled = n < 2;
    compareButton.lastChild.textContent = n ? `Compare (${n})` : "Compare";
    const restoring = state.view === "DELETED_ONLY";
    lifecycleButton.disabled = n === 0;
    lifecycleButton.replaceChildren(
      icon(restoring ? "restore" : "trash"),
      restoring ? `Restore (${n})` : `Delete (${n})`,
    );
    const all = grid.head.querySelector("input[type=checkbox]");
    if (all) all.checked = n > 0 && n === state.runs.length;
  }

  function compare() {
    window.location.hash = route(["compare"], { runs: [...state.selected].join(",") });
  }

  async function toggleDeleted() {
    const ids = [...state.selected];
    const restoring = state.view === "DELETED_ONLY";
    if (
      !restoring &&
      !(await confirm({
        title: `Delete ${ids.length} run${ids.length > 1 ? "s" : ""}?`,
        message: "Deleted runs can be restored from the Deleted view.",
        action: "Delete",
        danger: true,
      }))
    )
      return;
    try {
      await Promise.all(ids.map((id) => (restoring ? runs.restore(id) : runs.remove(id))));
      toast(`${ids.length} run${ids.length > 1 ? "s" : ""} ${restoring ? "restored" : "deleted"}`);
      reload();
    } catch (error) {
      toast(error.message, "error");
    }
  }

  // --- columns ----------------------------------------------------------------------

  function drawColumns() {
    const c = state.columns || { metrics: [], params: [], tags: [] };
    const columns = [
      {
        id: "select",
        width: 40,
        sticky: true,
        class: "center",
        header: () =>
          h("input", {
            type: "checkbox",
            "aria-label": "Select all loaded runs",
            checked: state.runs.length > 0 && state.selected.size === state.runs.length,
            on: {
              change: (event) => {
                state.selected = event.target.checked
                  ? new Set(state.runs.map((r) => r.info.run_id))
                  : new Set();
                updateSelection();
                grid.clearRows();
              },
            },
          }),
        cell: (row) =>
          h("input", {
            type: "checkbox",
            "aria-label": `Select ${fmt.runName(row.run.info)}`,
            checked: state.selected.has(row.run.info.run_id),
            on: {
              change: (event) => {
                if (event.target.checked) state.selected.add(row.run.info.run_id);
                else state.selected.delete(row.run.info.run_id);
                updateSelection();
              },
            },
          }),
      },
      {
        id: "name",
        label: "Run",
        width: window.innerWidth < 640 ? 190 : 260,
        sticky: true,
        sortKey: "attributes.run_name",
        class: "name-cell",
        cell: nameCell,
      },
      {
        id: "status",
        label: "Status",
        width: 104,
        sortKey: "attributes.status",
        cell: (row) => statusBadge(row.run.info.status),
      },
      {
        id: "created",
        label: "Created",
        width: 118,
        sortKey: "attributes.start_time",
        cell: (row) =>
          h("span", {
            title: fmt.date(row.run.info.start_time),
            text: fmt.ago(row.run.info.start_time),
          }),
      },
      {
        id: "duration",
        label: "Duration",
        width: 104,
        class: "num",
        cell: (row) => fmt.duration(fmt.runDuration(row.run.info)),
      },
      {
        id: "user",
        label: "User",
        width: 120,
        sortKey: "attributes.user_id",
        cell: (row) => clip(row.run.info.user_id || row.tags.get("mlflow.user") || ""),
      },
      {
        id: "source",
        label: "Source",
        width: 170,
        sortKey: searchKey("tags", "mlflow.source.name"),
        cell: (row) => sourceCell(row),
      },
      ...c.metrics.map((key) => ({
        id: `m:${key}`,
        label: key,
        title: `metric ${key}`,
        width: 120,
        group: "metric",
        class: "num",
        sortKey: searchKey("metrics", key),
        cell: (row) => metricCell(row, key),
      })),
      ...c.params.map((key) => ({
        id: `p:${key}`,
        label: key,
        title: `param ${key}`,
        width: 130,
        group: "param",
        sortKey: searchKey("params", key),
        cell: (row) => clip(row.params.get(key) ?? ""),
      })),
      ...c.tags.map((key) => ({
        id: `t:${key}`,
        label: key,
        title: `tag ${key}`,
        width: 140,
        group: "tag",
        sortKey: searchKey("tags", key),
        cell: (row) => clip(row.tags.get(key) ?? ""),
      })),
    ];
    grid.setColumns(columns, state.sort);
  }

  function nameCell(row) {
    const info = row.run.info;
    const parts = [];
    if (row.children) {
      const open = state.expanded.has(info.run_id);
      parts.push(
        h(
          "button",
          {
            class: "expander",
            type: "button",
            "aria-expanded": String(open),
            "aria-label": `${open ? "Hide" : "Show"} ${row.children} child runs`,
            on: {
              click: () => {
                if (open) state.expanded.delete(info.run_id);
                else state.expanded.add(info.run_id);
                drawRows();
              },
            },
          },
          icon(open ? "chevronDown" : "chevronRight"),
          h("span", { class: "child-count", text: String(row.children) }),
        ),
      );
    } else if (row.depth > 0 || row.orphanOf) {
      parts.push(h("span", { class: "branch", "aria-hidden": "true", text: "↳" }));
    }
    parts.push(
      link(["runs", info.run_id], fmt.runName(info), {
        class: "clip run-link",
        title: fmt.runName(info),
      }),
    );
    if (row.orphanOf)
      parts.push(
        link(["runs", row.orphanOf], "parent", {
          class: "parent-link",
          title: `Child of run ${row.orphanOf}`,
        }),
      );
    const cell = h("div", { class: "name-inner" }, parts);
    cell.style.paddingLeft = `${row.depth * 18}px`;
    return cell;
  }

  function sourceCell(row) {
    const source = row.tags.get("mlflow.source.name") || "";
    const commit = row.tags.get("mlflow.source.git.commit");
    const base = source.split(/[\\/]/).filter(Boolean).pop() || source;
    return h("span", {
      class: "clip",
      title: commit ? `${source} @ ${commit}` : source,
      text: base,
    });
  }

  function metricCell(row, key) {
    const metric = row.metrics.get(key);
    if (!metric) return "";
    return h("span", {
      title: `${metric.value} (step ${metric.step || 0})`,
      text: fmt.number(metric.value),
    });
  }

  // --- rows -------------------------------------------------------------------------

  /** Nest loaded runs under loaded parents; a child whose parent is not loaded stays on top. */
  function drawRows() {
    const children = new Map();
    const top = [];
    for (const run of state.runs) {
      const parent = fmt.pairs(run.data.tags).get(PARENT_TAG);
      if (state.group && parent && state.byId.has(parent)) {
        if (!children.has(parent)) children.set(parent, []);
        children.get(parent).push(run);
      } else {
        top.push({ run, parent });
      }
    }
    const rows = [];
    const visit = (run, depth, orphanOf) => {
      const kids = children.get(run.info.run_id) || [];
      const data = row(run);
      rows.push({
        ...data,
        depth,
        orphanOf,
        children: kids.length,
        className: depth ? "child" : null,
      });
      if (kids.length && state.expanded.has(run.info.run_id))
        for (const kid of kids) visit(kid, depth + 1, null);
    };
    for (const { run, parent } of top) visit(run, 0, state.group && parent ? parent : null);
    grid.setRows(rows);
    drawMessage();
  }

  const rowCache = new WeakMap();
  function row(run) {
    let data = rowCache.get(run);
    if (!data) {
      data = {
        run,
        params: fmt.pairs(run.data.params),
        tags: fmt.pairs(run.data.tags),
        metrics: new Map((run.data.metrics || []).map((m) => [m.key, m])),
      };
      rowCache.set(run, data);
    }
    return data;
  }

  function drawMessage() {
    const n = state.runs.length;
    status.textContent = n
      ? `${fmt.count(n)} run${n === 1 ? "" : "s"}${state.done ? "" : " loaded · scroll for more"}`
      : "";
    gridHost.hidden = n === 0 && state.done;
    if (n === 0 && state.done) {
      mount(
        message,
        state.filter || state.view !== "ACTIVE_ONLY"
          ? empty("No runs match.", "Change the filter or the view.")
          : empty(
              "No runs in this experiment yet.",
              "Log one from Python:",
              snippet(
                `mlflow.set_experiment(${JSON.stringify(experiment.name)})\nwith mlflow.start_run():\n    mlflow.log_metric("loss", 0.1)`,
              ),
            ),
      );
    } else if (!state.done && n === 0) {
      mount(message, loading("Loading runs…"));
    } else {
      mount(message);
    }
  }

  // --- loading ----------------------------------------------------------------------

  let generation = 0;

  function reload() {
    generation += 1;
    state.runs = [];
    state.byId = new Map();
    state.token = null;
    state.done = false;
    state.loading = null;
    state.selected = new Set();
    filterError.textContent = "";
    filterInput.removeAttribute("aria-invalid");
    updateSelection();
    drawColumns();
    drawRows();
    loadPage();
  }

  /** Fetch the next page, unless one is in flight or there are no more. */
  function loadPage() {
    if (state.loading || state.done) return state.loading;
    const mine = generation;
    state.loading = runs
      .search(
        {
          experiment_ids: [experimentId],
          filter: state.filter || undefined,
          run_view_type: state.view,
          max_results: PAGE_SIZE,
          order_by: [`${state.sort.key} ${state.sort.desc ? "DESC" : "ASC"}`],
          page_token: state.token || undefined,
        },
        ctx.signal,
      )
      .then((result) => {
        if (mine !== generation) return;
        const page = result.runs || [];
        for (const run of page) {
          state.runs.push(run);
          state.byId.set(run.info.run_id, run);
          for (const m of run.data.metrics || []) state.keys.metrics.add(m.key);
          for (const p of run.data.params || []) state.keys.params.add(p.key);
          for (const t of run.data.tags || [])
            if (!fmt.SYSTEM_TAG.test(t.key)) state.keys.tags.add(t.key);
        }
        state.token = result.next_page_token || null;
        state.done = !state.token;
        state.loading = null;
        if (!state.columns) {
          state.columns = {
            metrics: [...state.keys.metrics].sort().slice(0, 4),
            params: [...state.keys.params].sort().slice(0, 4),
            tags: [],
          };
          drawColumns();
        }
        drawRows();
      })
      .catch((error) => {
        if (mine !== generation || error.name === "AbortError") return;
        state.loading = null;
        state.done = true;
        if (error.status === 400) {
          filterError.textContent = error.message;
          filterInput.setAttribute("aria-invalid", "true");
          filterInput.setAttribute("aria-describedby", "filter-error");
          mount(
            message,
            empty(
              "Fix the filter to see runs.",
              "Filters use the MLflow search syntax, e.g. ",
              h("code", { text: "metrics.loss < 0.5 and params.lr = '0.01'" }),
            ),
          );
          gridHost.hidden = true;
        } else {
          mount(message, failure(error, reload));
          gridHost.hidden = true;
        }
      });
    return state.loading;
  }

  reload();
}

function clip(text) {
  return h("span", { class: "clip", title: text, text });
}
