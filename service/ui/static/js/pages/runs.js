/**
 * The runs of one experiment: a virtualised table that loads one page of the API at a
 * time as the user scrolls, with chosen metric/param/tag columns, server-side sort and
 * filter (the API's search grammar; errors shown inline), nested runs under their parent,
 * and a selection to compare, delete or restore.
 *
 * The page wires small parts together: RunPages (paging, runs/source.js), nestRows
 * (runs/rows.js), runColumns (runs/columns.js), a Selection, and the toolbar parts below.
 */

import { experiments, permission, runs } from "../api.js";
import { h, icon, link, mount, route } from "../dom.js";
import { segmented, toggle } from "../components/controls.js";
import { columnPicker, KEYS_PER_GROUP } from "../components/columns.js";
import { confirm } from "../components/dialog.js";
import { experimentViews } from "../components/experiment.js";
import { filterForm } from "../components/filter.js";
import { descriptionEditor, tagEditor } from "../components/editing.js";
import { parseIds, Selection } from "../components/selection.js";
import { empty, failure, loading, snippet, toast } from "../components/states.js";
import { VirtualGrid } from "../components/vgrid.js";
import * as fmt from "../format.js";
import { runColumns } from "./runs/columns.js";
import { nestRows, rowData } from "./runs/rows.js";
import { RunPages } from "./runs/source.js";
import { liveRefresh } from "../components/live.js";
import { download, safeName, toCsv } from "../csv.js";

const MAX_COMPARED = 1000;
const VIEWS = [
  ["ACTIVE_ONLY", "Active"],
  ["DELETED_ONLY", "Deleted"],
  ["ALL", "All"],
];

export async function render(page, ctx) {
  const [experimentId] = ctx.params;
  mount(page, loading());
  const columnsKey = `stratus.columns.${experimentId}`;
  const saved = JSON.parse(localStorage.getItem(columnsKey) || "null");
  const [{ experiment }, access, firstKeys] = await Promise.all([
    experiments.get(experimentId, ctx.signal),
    permission({ experimentId }, ctx.signal),
    // No choice made yet for this experiment: its first four metrics and params.
    saved ? null : experiments.runKeys(experimentId, { maxResults: 4 }, ctx.signal),
  ]);
  const canEdit = access.may("EDIT") && experiment.lifecycle_stage !== "deleted";
  ctx.setTitle(experiment.name);

  const query = {
    filter: ctx.query.get("filter") || "",
    view: ctx.query.get("view") || "ACTIVE_ONLY",
    sort: {
      key: ctx.query.get("sort") || "attributes.start_time",
      desc: ctx.query.get("dir") !== "asc",
    },
  };
  const layout = {
    group: ctx.query.get("group") !== "0",
    columns: saved || {
      metrics: firstKeys.metrics || [],
      params: firstKeys.params || [],
      tags: [],
    },
    expanded: new Set(),
  };

  // The selection outlives sort, filter and paging, and lives in the address (``sel``).
  const selection = new Selection(parseIds(ctx.query.get("sel")), () => {
    ctx.setQuery({ sel: selection.list().join(",") });
    actions.update();
  });
  const pages = new RunPages(experimentId, ctx.signal, {
    onPage: () => {
      drawRows();
      live.kick();
    },
    onError: (error) => {
      gridHost.hidden = true;
      if (error.status !== 400) return mount(message, failure(error, reload));
      filterBar.showError(error.message);
      return mount(
        message,
        empty(
          "Fix the filter to see runs.",
          "Filters use the MLflow search syntax, e.g. ",
          h("code", { text: "metrics.loss < 0.5 and params.lr = '0.01'" }),
        ),
      );
    },
  });

  const grid = new VirtualGrid({
    label: `Runs of ${experiment.name}`,
    onNearEnd: () => pages.next(),
    onSort: (key) => {
      query.sort = { key, desc: query.sort.key === key ? !query.sort.desc : true };
      ctx.setQuery({ sort: key, dir: query.sort.desc ? null : "asc" });
      reload();
    },
  });
  ctx.onCleanup(() => grid.destroy());

  const filterBar = filterForm(
    query.filter,
    (filter) => {
      query.filter = filter;
      ctx.setQuery({ filter });
      reload();
    },
    {
      label: "Filter runs (search grammar)",
      placeholder: "metrics.loss < 0.5 and params.optimizer = 'adam'",
    },
  );
  const actions = selectionActions({
    selection,
    deleted: () => query.view === "DELETED_ONLY",
    loaded: () => pages.runs.map((r) => r.info.run_id),
    grid,
    onCompare: () => {
      window.location.hash = route(["compare"], { runs: selection.list().join(",") });
    },
    onDone: (ids) => {
      selection.deleteAll(ids);
      reload();
    },
  });
  const gridHost = h("div", { class: "grid-host" }, grid.element);
  const message = h("div", { class: "grid-message" });

  mount(
    page,
    experimentHead(experiment, canEdit),
    h(
      "div",
      { class: "toolbar wrap" },
      filterBar.element,
      segmented(VIEWS, query.view, (view) => {
        query.view = view;
        ctx.setQuery({ view: view === "ACTIVE_ONLY" ? null : view });
        reload();
      }),
    ),
    filterBar.error,
    h(
      "div",
      { class: "toolbar" },
      columnPicker({
        load: (contains) =>
          experiments.runKeys(experimentId, { contains, maxResults: KEYS_PER_GROUP }, ctx.signal),
        chosen: () => layout.columns,
        onChange: (columns) => {
          layout.columns = columns;
          localStorage.setItem(columnsKey, JSON.stringify(columns));
          drawColumns();
        },
      }),
      toggle("Group child runs", layout.group, (on) => {
        layout.group = on;
        ctx.setQuery({ group: on ? null : "0" });
        drawRows();
      }),
      h(
        "button",
        {
          class: "btn",
          type: "button",
          title: "The loaded runs, with the columns shown",
          on: {
            click: () =>
              download(
                `${safeName(experiment.name)}-runs.csv`,
                runsCsv(pages.runs, layout.columns),
              ),
          },
        },
        icon("download"),
        "Export CSV",
      ),
      h("span", { class: "spacer" }),
      actions.element,
    ),
    message,
    gridHost,
  );

  function drawColumns() {
    grid.setColumns(
      runColumns({
        chosen: layout.columns,
        selection,
        loaded: () => pages.runs.map((r) => r.info.run_id),
        expanded: layout.expanded,
        onExpand: (id) => {
          if (layout.expanded.has(id)) layout.expanded.delete(id);
          else layout.expanded.add(id);
          drawRows();
        },
      }),
      query.sort,
    );
    actions.update();
  }

  function drawRows() {
    grid.setRows(nestRows(pages.runs, pages.byId, layout));
    actions.update();
    drawMessage();
  }

  function drawMessage() {
    const n = pages.runs.length;
    actions.setCount(n, pages.done);
    gridHost.hidden = n === 0 && pages.done;
    if (n === 0 && pages.done) {
      mount(
        message,
        query.filter || query.view !== "ACTIVE_ONLY"
          ? empty("No runs match.", "Change the filter or the view.")
          : empty(
              "No runs in this experiment yet.",
              "Log one from Python:",
              snippet(
                `mlflow.set_experiment(${JSON.stringify(experiment.name)})\nwith mlflow.start_run():\n    mlflow.log_metric("loss", 0.1)`,
              ),
            ),
      );
    } else if (!pages.done && n === 0) {
      mount(message, loading("Loading runs…"));
    } else {
      mount(message);
    }
  }

  function reload() {
    filterBar.clearError();
    pages.restart(query);
    drawColumns();
    drawRows();
  }

  // While loaded runs are running, fetch those runs again (one request) and redraw.
  const running = () =>
    pages.runs.filter((r) => r.info.status === "RUNNING").map((r) => r.info.run_id);
  const live = liveRefresh({
    signal: ctx.signal,
    active: () => running().length > 0,
    onState: (on) => actions.setLive(on),
    refresh: async () => {
      const ids = running().slice(0, 1000);
      const { runs: fresh = [] } = await runs.getMany(ids, ctx.signal);
      let changed = false;
      for (const run of fresh) {
        const old = pages.byId.get(run.info.run_id);
        if (!old || JSON.stringify(old) === JSON.stringify(run)) continue;
        pages.runs[pages.runs.indexOf(old)] = run;
        pages.byId.set(run.info.run_id, run);
        changed = true;
      }
      if (changed) drawRows();
      return changed;
    },
  });

  reload();
}

/** Loaded runs as CSV: identity, times, then the chosen metric, param and tag columns. */
function runsCsv(loaded, chosen) {
  const c = chosen || { metrics: [], params: [], tags: [] };
  const header = [
    "run_id",
    "run_name",
    "status",
    "start_time",
    "end_time",
    "user",
    ...c.metrics.map((k) => `metrics.${k}`),
    ...c.params.map((k) => `params.${k}`),
    ...c.tags.map((k) => `tags.${k}`),
  ];
  const rows = loaded.map((run) => {
    const row = rowData(run);
    const info = run.info;
    return [
      info.run_id,
      info.run_name,
      info.status,
      info.start_time ? new Date(Number(info.start_time)).toISOString() : "",
      info.end_time ? new Date(Number(info.end_time)).toISOString() : "",
      info.user_id,
      ...c.metrics.map((k) => row.metrics.get(k)?.value),
      ...c.params.map((k) => row.params.get(k)),
      ...c.tags.map((k) => row.tags.get(k)),
    ];
  });
  return toCsv(header, rows);
}

function experimentHead(experiment, canEdit) {
  const id = experiment.experiment_id;
  const description = fmt.pairs(experiment.tags).get("mlflow.note.content");
  const about = h(
    "details",
    { class: "about" },
    h("summary", { text: "Description and tags" }),
    h("h2", { class: "small-heading", text: "Description" }),
    descriptionEditor({
      value: description,
      canEdit,
      onSave: (text) => experiments.setTag(id, "mlflow.note.content", text),
    }),
    h("h2", { class: "small-heading", text: "Tags" }),
    tagEditor({
      tags: experiment.tags,
      canEdit,
      onSet: (key, value) => experiments.setTag(id, key, value),
      onDelete: (key) => experiments.deleteTag(id, key),
    }),
  );
  return [
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
    about,
    experimentViews(id, "runs"),
  ];
}

/** The run count, and Compare / Delete / Restore for the selected runs. */
function selectionActions({ selection, deleted, loaded, grid, onCompare, onDone }) {
  const status = h("span", { class: "muted run-count", role: "status" });
  const liveNote = h("span", {
    class: "badge info-badge live-note",
    hidden: true,
    title: "Running runs refresh on their own",
    text: "Live",
  });
  const compareButton = h(
    "button",
    { class: "btn primary", type: "button", disabled: true, on: { click: onCompare } },
    icon("compare"),
    "Compare",
  );
  const clearButton = h(
    "button",
    {
      class: "btn ghost",
      type: "button",
      hidden: true,
      on: { click: () => selection.clear() },
    },
    "Clear selection",
  );
  const lifecycleButton = h("button", {
    class: "btn",
    type: "button",
    disabled: true,
    on: { click: toggleDeleted },
  });

  async function toggleDeleted() {
    const ids = selection.list();
    const restoring = deleted();
    const plural = ids.length > 1 ? "s" : "";
    if (
      !restoring &&
      !(await confirm({
        title: `Delete ${ids.length} run${plural}?`,
        message: "Deleted runs can be restored from the Deleted view.",
        action: "Delete",
        danger: true,
      }))
    )
      return;
    try {
      await Promise.all(ids.map((id) => (restoring ? runs.restore(id) : runs.remove(id))));
      toast(`${ids.length} run${plural} ${restoring ? "restored" : "deleted"}`);
      onDone(ids);
    } catch (error) {
      toast(error.message, "error");
    }
  }

  return {
    element: h(
      "div",
      { class: "toolbar-group" },
      liveNote,
      status,
      clearButton,
      lifecycleButton,
      compareButton,
    ),
    setLive(on) {
      liveNote.hidden = !on;
    },
    setCount(n, done) {
      status.textContent = n
        ? `${fmt.count(n)} run${n === 1 ? "" : "s"}${done ? "" : " loaded · scroll for more"}`
        : "";
    },
    update() {
      const n = selection.size;
      clearButton.hidden = n === 0;
      // The compare page loads its runs in one request of at most 1,000.
      compareButton.disabled = n < 2 || n > MAX_COMPARED;
      compareButton.title = n > MAX_COMPARED ? `Compare up to ${MAX_COMPARED} runs` : "";
      compareButton.lastChild.textContent = n ? `Compare (${n})` : "Compare";
      const restoring = deleted();
      lifecycleButton.disabled = n === 0;
      lifecycleButton.replaceChildren(
        icon(restoring ? "restore" : "trash"),
        restoring ? `Restore (${n})` : `Delete (${n})`,
      );
      const all = grid.head.querySelector("input.select-all");
      const ids = loaded();
      if (all) all.checked = ids.length > 0 && ids.every((id) => selection.has(id));
      for (const box of grid.body.querySelectorAll("input.select-run"))
        box.checked = selection.has(box.dataset.runId);
    },
  };
}
