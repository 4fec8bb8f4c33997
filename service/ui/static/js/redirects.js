/**
 * Addresses in MLflow's UI format, as people paste them from old notes and as the mlflow
 * client prints them, mapped to the matching Stratus page. ``legacyTarget(path, query)``
 * returns the Stratus address (``#/...``) or null when the path is already ours.
 */

import { route } from "./dom.js";
import { parseIds } from "./components/selection.js";

/** MLflow's run sub-pages, by the tab they correspond to here. */
const RUN_TABS = {
  "model-metrics": "charts",
  "system-metrics": "charts",
  overview: null,
};

const RULES = [
  // #/experiments/1/runs/<id>/artifacts/<path> (and MLflow 1's /artifactPath/<path>)
  [
    /^\/experiments\/[^/]+\/runs\/([^/]+)\/(?:artifacts|artifactPath)(?:\/(.*))?$/,
    ([run, path]) =>
      route(["runs", run], clean({ tab: "artifacts", artifact: path ? decode(path) : null })),
  ],
  // #/experiments/1/runs/<id>/model-metrics, /system-metrics, /overview
  [
    /^\/experiments\/[^/]+\/runs\/([^/]+)\/([^/]+)$/,
    ([run, page]) => route(["runs", run], clean({ tab: RUN_TABS[page] ?? null })),
  ],
  // MLflow 3's traces tab with a trace open: #/experiments/1/traces?selectedEvaluationId=tr-…
  // (later versions say selectedTraceId)
  [
    /^\/experiments\/[^/]+\/traces$/,
    (_match, query) => {
      const id = query.get("selectedTraceId") || query.get("selectedEvaluationId");
      return id ? route(["traces", id]) : null;
    },
  ],
  // #/compare-runs?runs=["a","b"]&experiments=["1"]
  [
    /^\/compare-runs$/,
    (_match, query) => route(["compare"], { runs: parseIds(query.get("runs")).join(",") }),
  ],
  // #/metric/<key>?runs=[...]; MLflow 2 also puts the keys in plot_metric_keys
  [
    /^\/metric\/(.+)$/,
    ([key], query) => {
      const ids = parseIds(query.get("runs"));
      const metric = parseIds(query.get("plot_metric_keys"))[0] || decode(key);
      if (ids.length === 1) return route(["runs", ids[0]], { tab: "charts", metric });
      return route(["compare"], { runs: ids.join(","), metric });
    },
  ],
  // #/experiments/1?searchFilter=…&orderByKey=…&orderByAsc=… (and MLflow 1's /experiments/1/s)
  [
    /^\/experiments\/([^/]+)(?:\/s)?$/,
    ([experiment], query) => {
      if (
        !["searchFilter", "orderByKey", "orderByAsc", "lifecycleFilter"].some((k) => query.has(k))
      )
        return null;
      const asc = query.get("orderByAsc");
      const lifecycle = (query.get("lifecycleFilter") || "").toLowerCase();
      return route(
        ["experiments", experiment],
        clean({
          filter: query.get("searchFilter"),
          sort: query.get("orderByKey"),
          dir: asc === "true" ? "asc" : null,
          view: lifecycle === "deleted" ? "DELETED_ONLY" : null,
        }),
      );
    },
  ],
];

export function legacyTarget(path, query) {
  for (const [pattern, target] of RULES) {
    const match = pattern.exec(path);
    if (!match) continue;
    const address = target(match.slice(1), query);
    if (address) return address;
  }
  return null;
}

function clean(values) {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v != null && v !== ""));
}

function decode(text) {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
