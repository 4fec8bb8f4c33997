/**
 * The traces of one experiment: a table of one page of ``search_traces`` at a time
 * (``Load more`` follows the page token), the API's trace filter grammar (errors shown
 * under the box), and ordering by request time or latency on the server.
 */

import { experiments, traces } from "../api.js";
import { h, link, mount } from "../dom.js";
import { experimentViews } from "../components/experiment.js";
import { filterForm } from "../components/filter.js";
import { empty, failure, loading, snippet } from "../components/states.js";
import { chip, table } from "../components/table.js";
import { stateBadge } from "../components/status.js";
import { durationMs, SOURCE_RUN, tokenUsage, traceName } from "../tracedata.js";
import * as fmt from "../format.js";

const PAGE_SIZE = 50;
/** Sortable columns: the key in the address -> the API's order_by attribute. */
const ORDER = { time: "timestamp_ms", latency: "execution_time_ms" };
/** At most this many tags and assessments per row; the trace page has the rest. */
const CHIPS = 4;

export async function render(page, ctx) {
  const [experimentId] = ctx.params;
  mount(page, loading());
  const { experiment } = await experiments.get(experimentId, ctx.signal);
  ctx.setTitle(`Traces · ${experiment.name}`);
  const state = {
    filter: ctx.query.get("filter") || "",
    sort: {
      key: ORDER[ctx.query.get("sort")] ? ctx.query.get("sort") : "time",
      desc: ctx.query.get("dir") !== "asc",
    },
    items: [],
    token: null,
  };
  const body = h("div", { class: "card" });
  const footer = h("div", { class: "list-footer" });
  const filterBar = filterForm(
    state.filter,
    (filter) => {
      state.filter = filter;
      ctx.setQuery({ filter });
      load(true);
    },
    {
      label: "Filter traces (search grammar)",
      placeholder: "trace.status = 'ERROR' and tags.env = 'prod'",
    },
  );

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
        h("div", { class: "title-row" }, h("h1", { text: experiment.name })),
        h("p", { class: "subtle", text: `ID ${experiment.experiment_id} · traces` }),
      ),
    ),
    experimentViews(experimentId, "traces"),
    h("div", { class: "toolbar wrap" }, filterBar.element),
    filterBar.error,
    body,
    footer,
  );

  const columns = [
    {
      label: "Trace",
      class: "col-name",
      cell: (t) =>
        h(
          "div",
          { class: "trace-cell" },
          link(["traces", t.trace_id], traceName(t), { class: "strong" }),
          h("span", { class: "mono small muted clip", text: t.trace_id }),
        ),
    },
    { label: "Status", cell: (t) => stateBadge(t.state) },
    {
      label: "Request time",
      key: "time",
      class: "col-time",
      cell: (t) => h("span", { title: t.request_time, text: fmt.date(Date.parse(t.request_time)) }),
    },
    {
      label: "Latency",
      key: "latency",
      class: "num",
      cell: (t) => fmt.duration(durationMs(t.execution_duration)),
    },
    { label: "Tokens", class: "num", cell: (t) => tokensCell(t) },
    {
      label: "Run",
      cell: (t) => {
        const run = t.trace_metadata?.[SOURCE_RUN];
        return run ? link(["runs", run], run.slice(0, 8), { class: "mono", title: run }) : "—";
      },
    },
    {
      label: "Request",
      class: "col-desc hide-narrow",
      cell: (t) =>
        h("span", {
          class: "clip muted mono small request-preview",
          text: (t.request_preview || "").slice(0, 200),
        }),
    },
    { label: "Tags", cell: (t) => tagChips(t.tags) },
    { label: "Assessments", cell: (t) => assessmentChips(t.assessments) },
  ];

  function onSort(key) {
    state.sort = { key, desc: state.sort.key === key ? !state.sort.desc : true };
    ctx.setQuery({ sort: key === "time" ? null : key, dir: state.sort.desc ? null : "asc" });
    load(true);
  }

  async function load(reset) {
    if (reset) {
      state.items = [];
      state.token = null;
      filterBar.clearError();
      mount(body, loading("Loading traces…"));
      mount(footer);
    }
    let result;
    try {
      result = await traces.search(
        {
          locations: [
            { type: "MLFLOW_EXPERIMENT", mlflow_experiment: { experiment_id: experimentId } },
          ],
          filter: state.filter || undefined,
          max_results: PAGE_SIZE,
          order_by: [`${ORDER[state.sort.key]} ${state.sort.desc ? "DESC" : "ASC"}`],
          page_token: reset ? undefined : state.token,
        },
        ctx.signal,
      );
    } catch (error) {
      if (error.status === 400) {
        filterBar.showError(error.message);
        mount(
          body,
          empty(
            "Fix the filter to see traces.",
            "Filters use the MLflow trace search syntax, e.g. ",
            h("code", { text: "trace.status = 'OK' and trace.execution_time_ms > 500" }),
          ),
        );
      } else {
        mount(
          body,
          failure(error, () => load(true)),
        );
      }
      return;
    }
    state.items.push(...(result.traces || []));
    state.token = result.next_page_token || null;
    if (!state.items.length) {
      mount(
        body,
        state.filter
          ? empty("No traces match.", "Change the filter.")
          : empty(
              "No traces in this experiment yet.",
              "Trace a function from Python:",
              snippet(
                `mlflow.set_experiment(${JSON.stringify(experiment.name)})\n\n@mlflow.trace\ndef answer(question):\n    ...`,
              ),
            ),
      );
    } else {
      mount(body, table(columns, state.items, { sort: state.sort, onSort }));
    }
    const n = state.items.length;
    mount(
      footer,
      h("span", {
        class: "muted trace-count",
        role: "status",
        text: `${fmt.count(n)} trace${n === 1 ? "" : "s"}${state.token ? " loaded" : ""}`,
      }),
      state.token
        ? h(
            "button",
            { class: "btn", type: "button", on: { click: () => load(false) } },
            "Load more",
          )
        : null,
    );
  }
  await load(true);
}

function tokensCell(t) {
  const usage = tokenUsage(t.trace_metadata);
  if (!usage) return h("span", { class: "muted", text: "—" });
  return h("span", {
    title: `${usage.input_tokens ?? "?"} in · ${usage.output_tokens ?? "?"} out`,
    text: fmt.count(usage.total_tokens ?? 0),
  });
}

function tagChips(tags) {
  const own = Object.entries(tags || {}).filter(([key]) => !fmt.SYSTEM_TAG.test(key));
  return h(
    "div",
    { class: "chips" },
    own.slice(0, CHIPS).map(([key, value]) => chip(`${key}: ${clip(value)}`, { title: value })),
    own.length > CHIPS ? h("span", { class: "muted small", text: `+${own.length - CHIPS}` }) : null,
  );
}

function assessmentChips(items) {
  const valid = (items || []).filter((a) => a.valid !== false);
  return h(
    "div",
    { class: "chips" },
    valid.slice(0, CHIPS).map((a) => {
      const value = a.feedback ? a.feedback.value : a.expectation?.value;
      const text = value === undefined ? "—" : JSON.stringify(value);
      return chip(`${a.assessment_name}: ${clip(text)}`, {
        class: a.feedback ? "feedback-chip" : "expectation-chip",
        title: text,
      });
    }),
    valid.length > CHIPS
      ? h("span", { class: "muted small", text: `+${valid.length - CHIPS}` })
      : null,
  );
}

function clip(text, max = 40) {
  const value = String(text ?? "");
  return value.length > max ? `${value.slice(0, max)}…` : value;
}
