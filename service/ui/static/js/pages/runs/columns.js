/**
 * The runs grid's columns: selection, name (with the child-run expander), the fixed run
 * attributes, then the chosen metrics, params and tags. Each column is a plain object the
 * VirtualGrid reads (``id``, ``label``, ``width``, ``sortKey``, ``cell(row)``).
 */

import { searchKey } from "../../api.js";
import { h, icon, link } from "../../dom.js";
import { statusBadge } from "../../components/status.js";
import * as fmt from "../../format.js";

/**
 * ``chosen``: ``{metrics, params, tags}`` key lists. ``selection``: a Selection.
 * ``loaded()``: the run ids loaded now (what "select all" selects).
 * ``expanded``: the Set of parent run ids shown open; ``onExpand(id)`` toggles one.
 */
export function runColumns({ chosen, selection, loaded, expanded, onExpand }) {
  const c = chosen || { metrics: [], params: [], tags: [] };
  return [
    selectColumn(selection, loaded),
    {
      id: "name",
      label: "Run",
      width: window.innerWidth < 640 ? 190 : 260,
      sticky: true,
      sortKey: "attributes.run_name",
      class: "name-cell",
      cell: (row) => nameCell(row, expanded, onExpand),
    },
    {
      id: "status",
      label: "Status",
      width: 104,
      sortKey: "attributes.status",
      cell: (row) => statusBadge(row.run.info.status),
    },
    {
      id: "created",
      label: "Created",
      width: 118,
      sortKey: "attributes.start_time",
      cell: (row) =>
        h("span", {
          title: fmt.date(row.run.info.start_time),
          text: fmt.ago(row.run.info.start_time),
        }),
    },
    {
      id: "duration",
      label: "Duration",
      width: 104,
      class: "num",
      cell: (row) => fmt.duration(fmt.runDuration(row.run.info)),
    },
    {
      id: "user",
      label: "User",
      width: 120,
      sortKey: "attributes.user_id",
      cell: (row) => clip(row.run.info.user_id || row.tags.get("mlflow.user") || ""),
    },
    {
      id: "source",
      label: "Source",
      width: 170,
      sortKey: searchKey("tags", "mlflow.source.name"),
      cell: sourceCell,
    },
    ...c.metrics.map((key) => ({
      id: `m:${key}`,
      label: key,
      title: `metric ${key}`,
      width: 120,
      group: "metric",
      class: "num",
      sortKey: searchKey("metrics", key),
      cell: (row) => metricCell(row, key),
    })),
    ...c.params.map((key) => ({
      id: `p:${key}`,
      label: key,
      title: `param ${key}`,
      width: 130,
      group: "param",
      sortKey: searchKey("params", key),
      cell: (row) => clip(row.params.get(key) ?? ""),
    })),
    ...c.tags.map((key) => ({
      id: `t:${key}`,
      label: key,
      title: `tag ${key}`,
      width: 140,
      group: "tag",
      sortKey: searchKey("tags", key),
      cell: (row) => clip(row.tags.get(key) ?? ""),
    })),
  ];
}

function selectColumn(selection, loaded) {
  return {
    id: "select",
    width: 40,
    sticky: true,
    class: "center",
    header: () => {
      const box = h("input", {
        type: "checkbox",
        class: "select-all",
        "aria-label": "Select all loaded runs",
        on: {
          change: () => {
            if (box.checked) selection.addAll(loaded());
            else selection.deleteAll(loaded());
          },
        },
      });
      return box;
    },
    cell: (row) =>
      h("input", {
        type: "checkbox",
        class: "select-run",
        "aria-label": `Select ${fmt.runName(row.run.info)}`,
        checked: selection.has(row.run.info.run_id),
        dataset: { runId: row.run.info.run_id },
        on: {
          change: (event) => selection.toggle(row.run.info.run_id, event.target.checked),
        },
      }),
  };
}

function nameCell(row, expanded, onExpand) {
  const info = row.run.info;
  const parts = [];
  if (row.children) {
    const open = expanded.has(info.run_id);
    parts.push(
      h(
        "button",
        {
          class: "expander",
          type: "button",
          "aria-expanded": String(open),
          "aria-label": `${open ? "Hide" : "Show"} ${row.children} child runs`,
          on: { click: () => onExpand(info.run_id) },
        },
        icon(open ? "chevronDown" : "chevronRight"),
        h("span", { class: "child-count", text: String(row.children) }),
      ),
    );
  } else if (row.depth > 0 || row.orphanOf) {
    parts.push(h("span", { class: "branch", "aria-hidden": "true", text: "↳" }));
  }
  parts.push(
    link(["runs", info.run_id], fmt.runName(info), {
      class: "clip run-link",
      title: fmt.runName(info),
    }),
  );
  if (row.orphanOf)
    parts.push(
      link(["runs", row.orphanOf], "parent", {
        class: "parent-link",
        title: `Child of run ${row.orphanOf}`,
      }),
    );
  const cell = h("div", { class: "name-inner" }, parts);
  cell.style.paddingLeft = `${row.depth * 18}px`;
  return cell;
}

function sourceCell(row) {
  const source = row.tags.get("mlflow.source.name") || "";
  const commit = row.tags.get("mlflow.source.git.commit");
  const base = source.split(/[\\/]/).filter(Boolean).pop() || source;
  return h("span", {
    class: "clip",
    title: commit ? `${source} @ ${commit}` : source,
    text: base,
  });
}

function metricCell(row, key) {
  const metric = row.metrics.get(key);
  if (!metric) return "";
  return h("span", {
    title: `${metric.value} (step ${metric.step || 0})`,
    text: fmt.number(metric.value),
  });
}

function clip(text) {
  return h("span", { class: "clip", title: text, text });
}
