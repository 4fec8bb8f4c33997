/**
 * One trace: its facts (time, latency, tokens, linked run), the span tree with its
 * timeline beside the selected span (status, inputs, outputs, attributes, events), then
 * the trace's assessments, tags and metadata. The selected span is in the address
 * (``span=<id>``). Every value is bounded (components/payload.js) and shown as text.
 */

import { artifacts, experiments, traces } from "../api.js";
import { h, link, mount } from "../dom.js";
import { payload, showPayload } from "../components/payload.js";
import { SpanTree } from "../components/spantree.js";
import { stateBadge } from "../components/status.js";
import { empty, loading } from "../components/states.js";
import { keyValues, table } from "../components/table.js";
import * as fmt from "../format.js";
import {
  ARTIFACT_LOCATION,
  durationMs,
  SOURCE_RUN,
  SPAN_INPUTS,
  SPAN_OUTPUTS,
  SPAN_TOKEN_USAGE,
  SPANS_LOCATION,
  spanTree,
  tokenUsage,
  traceName,
} from "../tracedata.js";

/** Attribute values and tags longer than this are cut (with "Show all"). */
const VALUE_LIMIT = 2_000;
/** Event attributes (a stack trace) are cut later. */
const EVENT_LIMIT = 8_000;

export async function render(page, ctx) {
  const [traceId] = ctx.params;
  mount(page, loading());
  const { trace } = await traces.get(traceId, ctx.signal);
  const info = trace.trace_info;
  const experimentId = info.trace_location?.mlflow_experiment?.experiment_id;
  const experiment = experimentId
    ? await experiments.get(experimentId, ctx.signal).then(
        (r) => r.experiment,
        () => null,
      )
    : null;
  const name = traceName(info);
  ctx.setTitle(name);
  let rawSpans = trace.spans || [];
  const uploaded = rawSpans.length ? null : await uploadedSpans(info, ctx.signal);
  if (uploaded) rawSpans = uploaded;
  const tree = spanTree(rawSpans);

  const detail = h("div", { class: "span-detail", id: "span-detail", "aria-live": "polite" });
  const spans = new SpanTree(tree, {
    label: `Spans of ${name}`,
    onSelect: (span) => {
      ctx.setQuery({ span: span.id });
      mount(detail, spanDetail(span, tree));
    },
  });

  mount(
    page,
    h(
      "nav",
      { class: "crumbs", "aria-label": "Breadcrumb" },
      link(["experiments"], "Experiments"),
      h("span", { text: "/" }),
      experimentId
        ? link(
            ["experiments", experimentId],
            experiment ? experiment.name : `Experiment ${experimentId}`,
          )
        : null,
      h("span", { text: "/" }),
      experimentId ? link(["experiments", experimentId, "traces"], "Traces") : null,
      h("span", { text: "/" }),
    ),
    h(
      "div",
      { class: "page-head" },
      h("div", { class: "title-row" }, h("h1", { text: name }), stateBadge(info.state)),
    ),
    traceFacts(info),
    uploaded
      ? h("p", {
          class: "muted small",
          role: "note",
          text: "Spans from the copy the client uploaded (traces.json); the server has not received them all yet.",
        })
      : null,
    tree.roots.length
      ? h(
          "div",
          { class: "trace-body" },
          h(
            "section",
            { class: "section span-pane" },
            h("h2", { text: `Spans (${fmt.count(tree.byId.size)})` }),
            spans.element,
          ),
          h(
            "section",
            { class: "section detail-pane", tabindex: "0", "aria-label": "Selected span" },
            detail,
          ),
        )
      : h(
          "div",
          { class: "card" },
          empty(
            "This trace has no spans yet.",
            "Spans arrive in batches while the application runs; reload in a moment.",
          ),
        ),
    assessmentsSection(info.assessments || [], tree, spans),
    h(
      "div",
      { class: "columns-2" },
      h(
        "section",
        { class: "section" },
        h("h2", { text: `Tags (${Object.keys(info.tags || {}).length})` }),
        bounded(info.tags, "No tags"),
      ),
      h(
        "section",
        { class: "section" },
        h("h2", { text: `Metadata (${Object.keys(info.trace_metadata || {}).length})` }),
        bounded(info.trace_metadata, "No metadata"),
      ),
    ),
  );
  const wanted = tree.byId.get(ctx.query.get("span")) || tree.roots[0];
  if (wanted) spans.select(wanted);
}

/**
 * The spans of the ``traces.json`` copy the client uploads when the server had not yet
 * received every span (docs/tracing.md), as the client itself reads them; null if none.
 */
async function uploadedSpans(info, signal) {
  if (info.tags?.[SPANS_LOCATION] === "TRACKING_STORE") return null;
  const root = artifacts.root(info.tags?.[ARTIFACT_LOCATION]);
  if (!root) return null;
  const { files = [] } = await artifacts.list(root, signal).catch(() => ({}));
  if (!files.some((f) => f.path === "traces.json" && !f.is_dir)) return null;
  const data = await artifacts.json(`${root}/traces.json`, signal).catch(() => null);
  return Array.isArray(data?.spans) && data.spans.length ? data.spans : null;
}

function fact(label, value, wide = false) {
  return h(
    "div",
    { class: wide ? "fact wide" : "fact" },
    h("dt", { text: label }),
    h("dd", null, value),
  );
}

function traceFacts(info) {
  const usage = tokenUsage(info.trace_metadata);
  const run = info.trace_metadata?.[SOURCE_RUN];
  const model = info.trace_metadata?.["mlflow.modelId"];
  return h(
    "dl",
    { class: "facts" },
    fact("Trace ID", h("span", { class: "mono", text: info.trace_id }), true),
    fact("Request time", fmt.date(Date.parse(info.request_time))),
    fact("Latency", fmt.duration(durationMs(info.execution_duration))),
    fact(
      "Tokens",
      usage
        ? `${fmt.count(usage.total_tokens ?? 0)} (${usage.input_tokens ?? "?"} in · ${usage.output_tokens ?? "?"} out)`
        : "—",
    ),
    fact("Run", run ? link(["runs", run], run, { class: "mono" }) : "—", Boolean(run)),
    info.client_request_id
      ? fact("Client request ID", h("span", { class: "mono", text: info.client_request_id }))
      : null,
    model ? fact("Logged model", h("span", { class: "mono", text: model })) : null,
  );
}

/** Key/value pairs of an object, each value bounded. */
function bounded(object, emptyText, limit = VALUE_LIMIT) {
  const items = Object.entries(object || {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, value]) => ({ key, value }));
  return keyValues(items, {
    empty: emptyText,
    valueCell: (item) => payload(item.value, { limit, name: item.key, inline: true }),
  });
}

// --- the selected span ------------------------------------------------------------------

function spanDetail(span, tree) {
  const duration = span.end != null && span.start != null ? span.end - span.start : null;
  const attributes = new Map(
    [...span.attributes].filter(([key]) => key !== SPAN_INPUTS && key !== SPAN_OUTPUTS),
  );
  const usage = span.attributes.get(SPAN_TOKEN_USAGE);
  const inputs = h("div");
  const outputs = h("div");
  showPayload(inputs, span.attributes.get(SPAN_INPUTS), { name: `${span.name}-inputs` });
  showPayload(outputs, span.attributes.get(SPAN_OUTPUTS), { name: `${span.name}-outputs` });
  return [
    h(
      "div",
      { class: "title-row" },
      h("h2", { class: "span-title", text: span.name || "(unnamed)" }),
      span.type ? h("span", { class: "span-type", text: span.type }) : null,
      stateBadge(span.status),
    ),
    h(
      "dl",
      { class: "facts compact" },
      fact("Span ID", h("span", { class: "mono", text: span.id })),
      fact("Duration", fmt.spanDuration(duration)),
      fact("Starts at", span.start != null ? `+${fmt.duration(span.start - tree.start)}` : "—"),
      usage && typeof usage === "object"
        ? fact("Tokens", `${usage.input_tokens ?? "?"} in · ${usage.output_tokens ?? "?"} out`)
        : null,
    ),
    span.statusMessage
      ? h(
          "p",
          { class: "span-status-message", role: "note" },
          payload(span.statusMessage, { inline: true }),
        )
      : null,
    h("h3", { text: "Inputs" }),
    inputs,
    h("h3", { text: "Outputs" }),
    outputs,
    h("h3", { text: `Attributes (${attributes.size})` }),
    bounded(Object.fromEntries(attributes), "No attributes"),
    h("h3", { text: `Events (${span.events.length})` }),
    span.events.length
      ? h(
          "ol",
          { class: "span-events" },
          span.events.map((event) =>
            h(
              "li",
              { class: `span-event${event.name === "exception" ? " exception" : ""}` },
              h(
                "div",
                { class: "title-row" },
                h("strong", { text: event.name }),
                h("span", {
                  class: "muted small",
                  text: `+${fmt.duration(event.time - tree.start)}`,
                }),
              ),
              bounded(Object.fromEntries(event.attributes), "No attributes", EVENT_LIMIT),
            ),
          ),
        )
      : h("p", { class: "muted", text: "No events" }),
  ];
}

// --- assessments ------------------------------------------------------------------------

function assessmentsSection(items, tree, spans) {
  const section = h(
    "section",
    { class: "section" },
    h("h2", { text: `Assessments (${items.length})` }),
  );
  if (!items.length) {
    section.append(
      empty(
        "No feedback or expectations yet.",
        "Log some from Python: ",
        h("code", { text: 'mlflow.log_feedback(trace_id=..., name="helpful", value=True)' }),
      ),
    );
    return section;
  }
  const columns = [
    { label: "Name", cell: (a) => h("span", { class: "strong", text: a.assessment_name }) },
    {
      label: "Kind",
      cell: (a) =>
        h("span", {
          class: `badge ${a.feedback ? "info" : "plain"}-badge`,
          text: a.feedback ? "Feedback" : "Expectation",
        }),
    },
    { label: "Value", class: "col-desc", cell: (a) => assessmentValue(a) },
    {
      label: "Source",
      cell: (a) =>
        h(
          "span",
          null,
          h("span", { class: "muted small", text: `${a.source?.source_type || "UNKNOWN"} ` }),
          a.source?.source_id || "",
        ),
    },
    {
      label: "Rationale",
      class: "col-desc",
      cell: (a) => (a.rationale ? payload(a.rationale, { limit: VALUE_LIMIT, inline: true }) : "—"),
    },
    {
      label: "Span",
      cell: (a) => {
        const span = a.span_id && tree.byId.get(a.span_id);
        if (!span) return a.span_id ? h("span", { class: "mono", text: a.span_id }) : "Trace";
        return h(
          "button",
          {
            class: "btn small ghost",
            type: "button",
            on: { click: () => spans.select(span, { focus: true }) },
          },
          span.name,
        );
      },
    },
    {
      label: "Updated",
      class: "col-time",
      cell: (a) => fmt.date(Date.parse(a.last_update_time || a.create_time)),
    },
  ];
  section.append(
    table(columns, items, {
      rowClass: (a) => (a.valid === false ? "deleted" : null),
    }),
  );
  return section;
}

function assessmentValue(a) {
  const error = a.feedback?.error;
  if (error)
    return h(
      "span",
      { class: "error-text" },
      `${error.error_code || "ERROR"}: `,
      payload(error.error_message || "", { limit: VALUE_LIMIT, inline: true }),
    );
  const value = a.feedback ? a.feedback.value : a.expectation?.value;
  const serialized = a.expectation?.serialized_value?.value;
  return payload(value !== undefined ? value : serialized, {
    limit: VALUE_LIMIT,
    inline: true,
    name: a.assessment_name,
  });
}
