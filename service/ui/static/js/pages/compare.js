/**
 * Compare runs: their metrics overlaid on shared charts, and params, metrics and tags side
 * by side with the rows that differ highlighted. Runs may come from any experiment.
 */

import { containsPattern, runs } from "../api.js";
import { debounce, h, icon, link, mount, route } from "../dom.js";
import { chartGrid, runColor, xAxisControls } from "../components/charts.js";
import { smoothingSlider, toggle } from "../components/controls.js";
import { parseIds } from "../components/selection.js";
import { sweepAnalysis } from "../components/sweep.js";
import { statusBadge } from "../components/status.js";
import { empty, loading } from "../components/states.js";
import * as fmt from "../format.js";

/** Past this many runs, the side-by-side tables give way to the sweep views. */
const DIFF_RUNS = 50;

export async function render(page, ctx) {
  const ids = parseIds(ctx.query.get("runs"));
  ctx.setTitle("Compare runs");
  if (ids.length < 1) {
    mount(
      page,
      h("h1", { text: "Compare runs" }),
      empty("No runs selected.", "Select runs in an experiment's runs table, then press Compare."),
    );
    return;
  }
  mount(page, loading(`Loading ${ids.length} runs…`));
  const { runs: loaded = [], missing = [] } = await runs.getMany(ids, ctx.signal);
  if (!loaded.length)
    throw Object.assign(new Error("None of these runs exist."), {
      status: 404,
      code: "RESOURCE_DOES_NOT_EXIST",
    });

  const series = loaded.map((run, i) => ({
    id: run.info.run_id,
    label: fmt.runName(run.info),
    color: runColor(i),
    start: Number(run.info.start_time),
  }));
  const shown = loaded.map((run) => run.info.run_id);
  const setRuns = (next) => {
    window.location.hash = route(["compare"], { ...queryObject(ctx.query), runs: next.join(",") });
  };
  const remove = (id) => setRuns(shown.filter((x) => x !== id));

  const legend = h(
    "div",
    { class: "card table-wrap legend-scroll" },
    h(
      "table",
      { class: "table" },
      h(
        "thead",
        null,
        h(
          "tr",
          null,
          ["Colour", "Run", "Status", "Started", "Duration", "Actions"].map((t, i) =>
            h(
              "th",
              { scope: "col" },
              i === 0 || i === 5 ? h("span", { class: "visually-hidden", text: t }) : t,
            ),
          ),
        ),
      ),
      h(
        "tbody",
        null,
        loaded.map((run, i) =>
          h(
            "tr",
            null,
            h("td", null, h("span", { class: "swatch", style: { background: series[i].color } })),
            h(
              "td",
              null,
              link(["runs", run.info.run_id], fmt.runName(run.info), { class: "strong" }),
            ),
            h("td", null, statusBadge(run.info.status)),
            h("td", { text: fmt.date(run.info.start_time) }),
            h("td", { text: fmt.duration(fmt.runDuration(run.info)) }),
            h(
              "td",
              { class: "col-actions" },
              h(
                "button",
                {
                  class: "btn small ghost",
                  type: "button",
                  title: "Remove from comparison",
                  "aria-label": `Remove ${fmt.runName(run.info)} from comparison`,
                  on: { click: () => remove(run.info.run_id) },
                },
                icon("x"),
              ),
            ),
          ),
        ),
      ),
    ),
  );

  const onlyDiff = { value: ctx.query.get("diff") === "1" };
  const tables = h("div");
  const drawTables = () =>
    loaded.length > DIFF_RUNS
      ? mount(
          tables,
          h("p", {
            class: "muted",
            text: `Side-by-side tables are shown for up to ${DIFF_RUNS} runs; use the sweep views above for ${loaded.length}.`,
          }),
        )
      : mount(
          tables,
          diffSection("Parameters", loaded, (run) => fmt.pairs(run.data.params), onlyDiff.value),
          diffSection(
            "Metrics (latest)",
            loaded,
            (run) => new Map((run.data.metrics || []).map((m) => [m.key, m.value])),
            onlyDiff.value,
            fmt.number,
          ),
          diffSection(
            "Tags",
            loaded,
            (run) =>
              new Map(
                (run.data.tags || [])
                  .filter((t) => !fmt.SYSTEM_TAG.test(t.key))
                  .map((t) => [t.key, t.value]),
              ),
            onlyDiff.value,
          ),
        );
  drawTables();

  const keys = [
    ...new Set(loaded.flatMap((run) => (run.data.metrics || []).map((m) => m.key))),
  ].sort();

  const sweep =
    loaded.length > 1
      ? sweepAnalysis(
          loaded,
          {
            view: ctx.query.get("sweep"),
            color: ctx.query.get("sweep_color"),
            x: ctx.query.get("sweep_x"),
            y: ctx.query.get("sweep_y"),
            by: ctx.query.get("sweep_by"),
            metric: ctx.query.get("sweep_metric"),
          },
          (values) => ctx.setQuery(values),
        )
      : null;
  ctx.onCleanup(() => sweep?.destroy());
  const options = {
    xAxis: ctx.query.get("x") || "step",
    logScale: false,
    smoothing: Number(ctx.query.get("smooth")) || 0,
  };
  const xAxis = xAxisControls(keys, options.xAxis, (x) => {
    options.xAxis = x;
    ctx.setQuery({ x: x === "step" ? null : x });
    drawCharts();
  });
  const chartHost = h("div");
  const metricFilter = h("input", {
    type: "search",
    value: ctx.query.get("metric") || "",
    placeholder: `Filter ${keys.length} metrics`,
    "aria-label": "Filter metrics",
    on: { input: () => applyFilter() },
  });
  const applyFilter = () => {
    const needle = metricFilter.value.trim().toLowerCase();
    ctx.setQuery({ metric: metricFilter.value.trim() });
    chartHost.querySelectorAll(".chart-card").forEach((card) => {
      card.hidden = needle !== "" && !card.dataset.metric.toLowerCase().includes(needle);
    });
  };
  let grid = null;
  const drawCharts = () => {
    grid?.destroy();
    if (!keys.length) return mount(chartHost, empty("These runs have no metrics."));
    grid = chartGrid(keys, series, options, ctx);
    mount(chartHost, grid.element);
    applyFilter();
  };
  ctx.onCleanup(() => grid?.destroy());

  mount(
    page,
    h(
      "nav",
      { class: "crumbs", "aria-label": "Breadcrumb" },
      link(["experiments"], "Experiments"),
      h("span", { text: "/" }),
      link(["experiments", loaded[0].info.experiment_id], "Runs", {
        query: { sel: shown.join(",") },
      }),
      h("span", { text: "/" }),
    ),
    h(
      "div",
      { class: "page-head" },
      h("h1", { text: `Comparing ${loaded.length} run${loaded.length === 1 ? "" : "s"}` }),
    ),
    missing.length
      ? h("p", {
          class: "field-error",
          role: "alert",
          text: `${missing.length} run${missing.length === 1 ? " does" : "s do"} not exist: ${missing.join(", ")}`,
        })
      : null,
    legend,
    addRuns(loaded, shown, setRuns, ctx),
    sweep
      ? h(
          "section",
          { class: "section", "aria-labelledby": "sweep-title" },
          h("h2", { id: "sweep-title", text: "Sweep analysis" }),
          sweep.element,
        )
      : null,
    h(
      "section",
      { class: "section" },
      h("h2", { text: "Metrics" }),
      h(
        "div",
        { class: "toolbar" },
        xAxis,
        toggle("Log scale", false, (on) => {
          options.logScale = on;
          drawCharts();
        }),
        smoothingSlider(
          options.smoothing,
          debounce((v) => {
            options.smoothing = v;
            ctx.setQuery({ smooth: v ? String(v) : null });
            drawCharts();
          }, 150),
        ),
        h("span", { class: "spacer" }),
        metricFilter,
      ),
      chartHost,
    ),
    h(
      "section",
      { class: "section" },
      h(
        "div",
        { class: "section-head" },
        h("h2", { text: "Differences" }),
        toggle("Only rows that differ", onlyDiff.value, (on) => {
          onlyDiff.value = on;
          ctx.setQuery({ diff: on ? "1" : null });
          drawTables();
        }),
      ),
      tables,
    ),
  );
  sweep?.start();
  drawCharts();
}

/** A key × run table; rows whose values are not all equal get the ``differs`` class. */
function diffSection(title, loaded, values, onlyDiff, format = (v) => v) {
  const maps = loaded.map(values);
  const keys = [...new Set(maps.flatMap((m) => [...m.keys()]))].sort();
  const rows = keys
    .map((key) => {
      const cells = maps.map((m) => m.get(key));
      const differs =
        new Set(cells.map((v) => (v === undefined ? "\u0000missing" : String(v)))).size > 1;
      return { key, cells, differs };
    })
    .filter((row) => !onlyDiff || row.differs);
  const count = rows.filter((r) => r.differs).length;
  const body = rows.length
    ? h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { class: "table diff" },
          h(
            "thead",
            null,
            h(
              "tr",
              null,
              h("th", { scope: "col", text: "Key" }),
              loaded.map((run, i) =>
                h(
                  "th",
                  { scope: "col" },
                  h("span", { class: "swatch", style: { background: runColor(i) } }),
                  h("span", { class: "clip", text: fmt.runName(run.info) }),
                ),
              ),
            ),
          ),
          h(
            "tbody",
            null,
            rows.map((row) =>
              h(
                "tr",
                { class: row.differs ? "differs" : null },
                h("th", { scope: "row", class: "kv-key", text: row.key }),
                row.cells.map((v) =>
                  h("td", {
                    class: v === undefined ? "missing" : null,
                    text: v === undefined ? "—" : format(v),
                  }),
                ),
              ),
            ),
          ),
        ),
      )
    : h("p", { class: "muted", text: keys.length ? "No differences." : "None logged." });
  return h(
    "div",
    { class: "diff-block" },
    h(
      "h3",
      null,
      title,
      h("span", { class: "muted small", text: ` · ${keys.length} keys, ${count} differ` }),
    ),
    body,
  );
}

function queryObject(query) {
  return Object.fromEntries(query.entries());
}

/** Find runs of the compared runs' experiments by name, and add them to the comparison. */
function addRuns(loaded, shown, setRuns, ctx) {
  const experimentIds = [...new Set(loaded.map((run) => run.info.experiment_id))];
  const results = h("ul", { class: "add-results", "aria-label": "Runs to add" });
  const search = async () => {
    const text = input.value.trim();
    try {
      const found = await runs.search(
        {
          experiment_ids: experimentIds,
          filter: text ? `attributes.run_name LIKE ${containsPattern(text)}` : undefined,
          max_results: 20,
          order_by: ["attributes.start_time DESC"],
        },
        ctx.signal,
      );
      const candidates = (found.runs || []).filter((run) => !shown.includes(run.info.run_id));
      mount(
        results,
        candidates.length
          ? candidates.map((run) =>
              h(
                "li",
                null,
                h(
                  "button",
                  {
                    class: "btn small ghost",
                    type: "button",
                    "aria-label": `Add ${fmt.runName(run.info)}`,
                    on: { click: () => setRuns([...shown, run.info.run_id]) },
                  },
                  icon("plus"),
                  fmt.runName(run.info),
                ),
              ),
            )
          : h("li", { class: "muted small", text: "No other runs match." }),
      );
    } catch (error) {
      mount(results, h("li", { class: "field-error", text: error.message }));
    }
  };
  const input = h("input", {
    type: "search",
    placeholder: "Find runs by name",
    "aria-label": "Find runs to add",
    on: { input: debounce(search, 250) },
  });
  return h(
    "details",
    { class: "add-runs", on: { toggle: (event) => event.target.open && search() } },
    h("summary", null, icon("plus"), "Add runs"),
    h("div", { class: "add-body" }, input, results),
  );
}
