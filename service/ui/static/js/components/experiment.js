/** The views of one experiment (its runs, its traces): links styled as tabs. */

import { h, link } from "../dom.js";

const VIEWS = [
  ["runs", "Runs", (id) => ["experiments", id]],
  ["traces", "Traces", (id) => ["experiments", id, "traces"]],
];

/** ``current``: "runs" or "traces"; that link carries ``aria-current="page"``. */
export function experimentViews(experimentId, current) {
  return h(
    "nav",
    { class: "tabs view-tabs", "aria-label": "Experiment views" },
    VIEWS.map(([id, label, parts]) =>
      link(parts(experimentId), label, {
        class: "tab",
        "aria-current": id === current ? "page" : null,
      }),
    ),
  );
}
