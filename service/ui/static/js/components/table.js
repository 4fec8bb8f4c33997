/** Plain tables (experiments, models, key/value lists); the runs page has its own grid. */

import { h } from "../dom.js";

/**
 * ``columns``: ``[{label, cell: row => node|string, key?, class?}]``. A column with a
 * ``key`` is sortable when ``sort`` (``{key, desc}``) and ``onSort(key)`` are given.
 */
export function table(columns, rows, { sort, onSort, rowClass } = {}) {
  const head = h(
    "tr",
    null,
    columns.map((col) => {
      if (!col.key || !onSort) return h("th", { class: col.class, scope: "col" }, headLabel(col));
      const active = sort && sort.key === col.key;
      return h(
        "th",
        {
          class: col.class,
          scope: "col",
          "aria-sort": active ? (sort.desc ? "descending" : "ascending") : "none",
        },
        h(
          "button",
          {
            class: `sort${active ? " active" : ""}`,
            type: "button",
            on: { click: () => onSort(col.key) },
          },
          col.label,
          h("span", {
            class: "sort-mark",
            "aria-hidden": "true",
            text: active ? (sort.desc ? "▼" : "▲") : "",
          }),
        ),
      );
    }),
  );
  const body = rows.map((row) =>
    h(
      "tr",
      { class: rowClass ? rowClass(row) : null },
      columns.map((col) => h("td", { class: col.class }, col.cell(row))),
    ),
  );
  return h(
    "div",
    { class: "table-wrap" },
    h("table", { class: "table" }, h("thead", null, head), h("tbody", null, body)),
  );
}

/** A column's header; an unlabelled one (row actions) is named for screen readers only. */
function headLabel(col) {
  return col.label || h("span", { class: "visually-hidden", text: col.hiddenLabel || "Actions" });
}

/** A two-column key/value table with an optional filter box for long lists. */
export function keyValues(items, { empty = "None", valueCell } = {}) {
  if (!items.length) return h("p", { class: "muted", text: empty });
  const rows = items.map((item) =>
    h(
      "tr",
      { dataset: { key: item.key.toLowerCase() } },
      h("th", { scope: "row", class: "kv-key" }, item.key),
      h("td", { class: "kv-value" }, valueCell ? valueCell(item) : item.value),
    ),
  );
  const tbody = h("tbody", null, rows);
  const wrap = h("div", { class: "table-wrap" }, h("table", { class: "table kv" }, tbody));
  if (items.length <= 12) return wrap;
  const filter = h("input", {
    type: "search",
    class: "kv-filter",
    placeholder: `Filter ${items.length} keys`,
    "aria-label": "Filter keys",
    on: {
      input: () => {
        const needle = filter.value.trim().toLowerCase();
        for (const row of rows) row.hidden = needle !== "" && !row.dataset.key.includes(needle);
      },
    },
  });
  return h("div", null, filter, wrap);
}

/** Compact chips: aliases, tags. */
export function chip(text, props = {}) {
  return h(
    "span",
    { class: `chip ${props.class || ""}`.trim(), title: props.title },
    text,
    props.after || null,
  );
}
