/**
 * The rows the runs grid shows: loaded runs, children nested under loaded parents (when
 * grouping is on and the parent is expanded). A child whose parent is not loaded stays on
 * top with ``orphanOf`` set, so the table can link to the parent.
 */

import * as fmt from "../../format.js";

const PARENT_TAG = "mlflow.parentRunId";

/** A run's lookups, computed once per run object. */
const cache = new WeakMap();
export function rowData(run) {
  let data = cache.get(run);
  if (!data) {
    data = {
      run,
      params: fmt.pairs(run.data.params),
      tags: fmt.pairs(run.data.tags),
      metrics: new Map((run.data.metrics || []).map((m) => [m.key, m])),
    };
    cache.set(run, data);
  }
  return data;
}

/** ``runs`` in order, with ``{depth, orphanOf, children, className}`` for the grid. */
export function nestRows(runs, byId, { group, expanded }) {
  const children = new Map();
  const top = [];
  for (const run of runs) {
    const parent = rowData(run).tags.get(PARENT_TAG);
    if (group && parent && byId.has(parent)) {
      if (!children.has(parent)) children.set(parent, []);
      children.get(parent).push(run);
    } else {
      top.push({ run, parent });
    }
  }
  const rows = [];
  const visit = (run, depth, orphanOf) => {
    const kids = children.get(run.info.run_id) || [];
    rows.push({
      ...rowData(run),
      depth,
      orphanOf,
      children: kids.length,
      className: depth ? "child" : null,
    });
    if (kids.length && expanded.has(run.info.run_id))
      for (const kid of kids) visit(kid, depth + 1, null);
  };
  for (const { run, parent } of top) visit(run, 0, group && parent ? parent : null);
  return rows;
}
