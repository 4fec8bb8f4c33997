/**
 * Compare runs: their metrics overlaid on shared charts, and params, metrics and tags side
 * by side with the rows that differ highlighted. Runs may come from any experiment.
 */

import { runs } from "../api.js";
import { h, icon, link, mount, route } from "../dom.js";
import { chartGrid, runColor, X_AXES } from "../components/charts.js";
import { segmented, toggle } from "../components/controls.js";
import { statusBadge } from "../components/status.js";
import { empty, loading } from "../components/states.js";
import * as fmt from "../format.js";

export async function render(page, ctx) {
  const ids = [...new Set((ctx.query.get("runs") || "").split(",").filter(Boolean))];
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
  const results = await Promise.all(
    ids.map((id) =>
      runs.get(id, ctx.signal).then(
        (r) => r.run,
        (error) => ({ error, id }),
      ),
    ),
  );
  const missing = results.filter((r) => r.error);
  const loaded = results.filter((r) => !r.error);
  if (!loaded.length) throw missing[0].error;

  const series = loaded.map((run, i) => ({
    id: run.info.run_id,
    label: fmt.runName(run.info),
    color: runColor(i),
    start: Number(run.info.start_time),
  }));
  const remove = (id) => {
    window.location.hash = route(["compare"], { runs: ids.filter((x) => x !== id).join(",") });
  };

  const legend = h(
    "div",
    { class: "card table-wrap" },
    h(
      "table",
      { class: "table" },
      h(
        "thead",
        null,
        h(
          "tr",
          null,
          ["", "Run", "Status", "Started", "Duration", ""].map((t) =>
            h("th", { scope: "col", text: t }),
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
    mount(
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
  const options = { xAxis: ctx.query.get("x") || "step", logScale: false };
  const chartHost = h("div");
  let grid = null;
  const drawCharts = () => {
    grid?.destroy();
    if (!keys.length) return mount(chartHost, empty("These runs have no metrics."));
    grid = chartGrid(keys, series, options, ctx);
    mount(chartHost, grid.element);
  };
  ctx.onCleanup(() => grid?.destroy());

  mount(
    page,
    h(
      "nav",
      { class: "crumbs", "aria-label": "Breadcrumb" },
      link(["experiments"], "Experiments"),
      h("span", { text: "/" }),
      link(["experiments", loaded[0].info.experiment_id], "Runs"),
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
          text: `Could not load ${missing.map((m) => m.id).join(", ")}: ${missing[0].error.message}`,
        })
      : null,
    legend,
    h(
      "section",
      { class: "section" },
      h("h2", { text: "Metrics" }),
      h(
        "div",
        { class: "toolbar" },
        segmented(X_AXES, options.xAxis, (x) => {
          options.xAxis = x;
          ctx.setQuery({ x: x === "step" ? null : x });
          drawCharts();
        }),
        toggle("Log scale", false, (on) => {
          options.logScale = on;
          drawCharts();
        }),
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
