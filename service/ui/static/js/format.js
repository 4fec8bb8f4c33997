/** Formatting of times, durations, numbers and sizes, and lookups in key/value lists. */

const DATE = new Intl.DateTimeFormat(undefined, {
  year: "numeric",
  month: "short",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
});

export function date(ms) {
  return ms ? DATE.format(new Date(Number(ms))) : "—";
}

export function ago(ms) {
  if (!ms) return "—";
  const seconds = Math.round((Date.now() - Number(ms)) / 1000);
  if (seconds < 60) return "just now";
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return date(ms).split(",")[0];
}

export function duration(ms) {
  if (ms == null || ms < 0 || Number.isNaN(ms)) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s % 60)} s`;
  const hours = Math.floor(m / 60);
  if (hours < 48) return `${hours} h ${m % 60} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

/** A run's duration: to its end, or to now while it runs. */
export function runDuration(info) {
  if (!info.start_time) return null;
  const end = info.end_time || (info.status === "RUNNING" ? Date.now() : null);
  return end ? Number(end) - Number(info.start_time) : null;
}

/** Metric values: compact, but never misleading (exponent for the very small or large). */
export function number(value) {
  if (typeof value === "string") return value; // "NaN", "Infinity"
  if (value == null) return "—";
  if (Number.isInteger(value) && Math.abs(value) < 1e15) return String(value);
  const abs = Math.abs(value);
  if (abs !== 0 && (abs >= 1e6 || abs < 1e-4)) return value.toExponential(4);
  return String(Number(value.toPrecision(6)));
}

export function count(n) {
  return Number(n).toLocaleString();
}

export function bytes(n) {
  if (n == null) return "";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = Number(n);
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

/** ``[{key, value}]`` as a Map. */
export function pairs(list) {
  return new Map((list || []).map((item) => [item.key, item.value]));
}

export const SYSTEM_TAG = /^mlflow\./;

/** The display name of a run: its name, or its id. */
export function runName(info) {
  return info.run_name || info.run_id;
}

/** A span's duration: like ``duration``, with a fraction of a millisecond when short. */
export function spanDuration(ms) {
  if (ms != null && ms >= 0 && ms < 10) return `${ms.toFixed(ms < 1 ? 2 : 1)} ms`;
  return duration(ms);
}
