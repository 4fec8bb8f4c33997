/**
 * Reading traces as the API serves them (no DOM): trace info fields, and spans in OTLP
 * proto3 JSON (ids in base64, times in nanoseconds as strings, attributes as
 * ``[{key, value: {string_value}}]``) turned into plain objects and a tree.
 * MLflow's own attributes hold JSON text (``mlflow.spanInputs``, ``mlflow.spanType``).
 */

export const TRACE_NAME = "mlflow.traceName";
export const SOURCE_RUN = "mlflow.sourceRun";
export const TOKEN_USAGE = "mlflow.trace.tokenUsage";
export const SPAN_INPUTS = "mlflow.spanInputs";
export const SPAN_OUTPUTS = "mlflow.spanOutputs";
export const SPAN_TYPE = "mlflow.spanType";
export const SPAN_TOKEN_USAGE = "mlflow.chat.tokenUsage";
export const SPANS_LOCATION = "mlflow.trace.spansLocation";
export const ARTIFACT_LOCATION = "mlflow.artifactLocation";

/** A trace's display name: its ``mlflow.traceName`` tag, or its id. */
export function traceName(info) {
  return info.tags?.[TRACE_NAME] || info.trace_id;
}

/** A proto3 duration (``"0.025s"``) in milliseconds, or null. */
export function durationMs(value) {
  return value ? Number.parseFloat(value) * 1000 : null;
}

/** ``{input_tokens, output_tokens, total_tokens}`` from trace metadata, or null. */
export function tokenUsage(metadata) {
  const raw = metadata?.[TOKEN_USAGE];
  if (!raw) return null;
  const usage = parseJson(raw);
  return usage && typeof usage === "object" ? usage : null;
}

/** JSON text as a value; text that is not JSON stays text. */
export function parseJson(text) {
  if (typeof text !== "string") return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Base64 (proto3 JSON bytes) -> lowercase hex; hex stays hex. */
export function hexId(value) {
  if (!value) return "";
  if (/^[0-9a-f]+$/i.test(value) && value.length % 2 === 0 && value.length >= 16)
    return value.toLowerCase();
  try {
    return [...atob(value)].map((c) => c.charCodeAt(0).toString(16).padStart(2, "0")).join("");
  } catch {
    return String(value);
  }
}

/** An OTLP ``AnyValue`` as a plain value. */
function anyValue(value) {
  if (!value || typeof value !== "object") return value;
  if ("string_value" in value) return value.string_value;
  if ("bool_value" in value) return value.bool_value;
  if ("int_value" in value) {
    const number = Number(value.int_value);
    return Number.isSafeInteger(number) ? number : String(value.int_value);
  }
  if ("double_value" in value) return value.double_value;
  if ("array_value" in value) return (value.array_value.values || []).map(anyValue);
  if ("kvlist_value" in value)
    return Object.fromEntries(
      (value.kvlist_value.values || []).map((kv) => [kv.key, anyValue(kv.value)]),
    );
  if ("bytes_value" in value) return hexId(value.bytes_value);
  return null;
}

/** OTLP attributes (a list of key/values), or MLflow's plain object of them, as a Map. */
function attributeMap(list) {
  if (!Array.isArray(list)) return new Map(Object.entries(list || {}));
  return new Map(list.map((item) => [item.key, anyValue(item.value)]));
}

function nanos(value) {
  return value == null || value === "" ? null : Number(value);
}

const STATUS = { STATUS_CODE_OK: "OK", STATUS_CODE_ERROR: "ERROR", STATUS_CODE_UNSET: "UNSET" };

/**
 * One span: ``{id, parentId, name, type, status, statusMessage, start, end, attributes,
 * events, children}``; times in ms since the epoch (fractional); ``attributes`` a Map of
 * decoded values (MLflow's JSON text parsed).
 */
export function readSpan(raw) {
  // OTLP attributes are typed values (MLflow's own hold JSON text); in MLflow's own span
  // format (a trace's traces.json upload) every value is JSON text.
  const allJson = !Array.isArray(raw.attributes);
  const attributes = new Map();
  for (const [key, value] of attributeMap(raw.attributes))
    attributes.set(key, allJson || key.startsWith("mlflow.") ? parseJson(value) : value);
  const start = nanos(raw.start_time_unix_nano);
  const end = nanos(raw.end_time_unix_nano);
  const code = raw.status?.code;
  return {
    id: hexId(raw.span_id),
    parentId: hexId(raw.parent_span_id) || null,
    name: raw.name || "",
    type: attributes.get(SPAN_TYPE) || "",
    status: STATUS[code] || (typeof code === "string" ? code : "UNSET"),
    statusMessage: raw.status?.message || "",
    start: start == null ? null : start / 1e6,
    end: end == null ? null : end / 1e6,
    attributes,
    events: (raw.events || []).map((event) => ({
      name: event.name || "",
      time: nanos(event.time_unix_nano) / 1e6,
      attributes: attributeMap(event.attributes),
    })),
    children: [],
  };
}

/**
 * The spans as a forest: ``{roots, byId, start, end}``. A span whose parent is missing
 * (not yet arrived) is a root. Children keep start order.
 */
export function spanTree(rawSpans) {
  const spans = rawSpans.map(readSpan);
  const byId = new Map(spans.map((span) => [span.id, span]));
  const roots = [];
  for (const span of spans) {
    const parent = span.parentId ? byId.get(span.parentId) : null;
    if (parent && parent !== span) parent.children.push(span);
    else roots.push(span);
  }
  const starts = spans.map((s) => s.start).filter((t) => t != null);
  const ends = spans.map((s) => s.end ?? s.start).filter((t) => t != null);
  const byStart = (a, b) => (a.start ?? 0) - (b.start ?? 0);
  roots.sort(byStart);
  for (const span of spans) span.children.sort(byStart);
  return {
    roots,
    byId,
    start: starts.length ? Math.min(...starts) : 0,
    end: ends.length ? Math.max(...ends) : 0,
  };
}
