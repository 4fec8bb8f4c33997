/**
 * A virtualised grid: thousands of rows, but only the ones in view (plus a margin) exist
 * in the DOM, so scrolling stays smooth at 10,000 runs. Rows have a fixed height; the
 * header sticks to the top and the first columns to the left. ``onNearEnd`` asks for the
 * next page when the user scrolls close to the last loaded row.
 */

import { h } from "../dom.js";

export class VirtualGrid {
  constructor({ rowHeight = 36, overscan = 10, nearEnd = 40, onNearEnd, onSort, label }) {
    this.rowHeight = rowHeight;
    this.overscan = overscan;
    this.nearEnd = nearEnd;
    this.onNearEnd = onNearEnd;
    this.onSort = onSort;
    this.columns = [];
    this.rows = [];
    this.sort = null;
    this.live = new Map(); // row index -> element
    this.head = h("div", { class: "vgrid-head", role: "row" });
    this.body = h("div", { class: "vgrid-body", role: "rowgroup" });
    this.inner = h("div", { class: "vgrid-inner" }, this.head, this.body);
    this.element = h(
      "div",
      { class: "vgrid", role: "grid", "aria-label": label, tabindex: "0" },
      this.inner,
    );
    this.frame = null;
    this.element.addEventListener("scroll", () => this.schedule(), { passive: true });
    this.resize = new ResizeObserver(() => this.schedule());
    this.resize.observe(this.element);
  }

  destroy() {
    this.resize.disconnect();
    cancelAnimationFrame(this.frame);
  }

  setColumns(columns, sort) {
    this.columns = columns;
    this.sort = sort;
    let left = 0;
    this.offsets = columns.map((col) => {
      const offset = left;
      left += col.width;
      return offset;
    });
    this.template = columns.map((col) => `${col.width}px`).join(" ");
    this.inner.style.width = `${left}px`;
    this.head.style.gridTemplateColumns = this.template;
    this.head.replaceChildren(...columns.map((col, i) => this.headerCell(col, i)));
    this.clearRows();
  }

  setRows(rows) {
    this.rows = rows;
    this.body.style.height = `${rows.length * this.rowHeight}px`;
    this.clearRows();
  }

  clearRows() {
    for (const el of this.live.values()) el.remove();
    this.live.clear();
    this.schedule();
  }

  schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = null;
      this.update();
    });
  }

  update() {
    const top = Math.max(0, this.element.scrollTop - this.head.offsetHeight);
    const height = this.element.clientHeight;
    const first = Math.max(0, Math.floor(top / this.rowHeight) - this.overscan);
    const last = Math.min(
      this.rows.length,
      Math.ceil((top + height) / this.rowHeight) + this.overscan,
    );
    for (const [index, el] of this.live) {
      if (index < first || index >= last) {
        el.remove();
        this.live.delete(index);
      }
    }
    for (let index = first; index < last; index += 1) {
      if (!this.live.has(index)) {
        const el = this.rowElement(this.rows[index], index);
        this.live.set(index, el);
        this.body.append(el);
      }
    }
    if (this.onNearEnd && last >= this.rows.length - this.nearEnd) this.onNearEnd();
  }

  rowElement(row, index) {
    const el = h(
      "div",
      {
        class: `vgrid-row${row.className ? ` ${row.className}` : ""}`,
        role: "row",
        "aria-rowindex": String(index + 2),
      },
      this.columns.map((col, i) => this.cell(col, i, col.cell(row))),
    );
    el.style.gridTemplateColumns = this.template;
    el.style.transform = `translateY(${index * this.rowHeight}px)`;
    el.style.height = `${this.rowHeight}px`;
    return el;
  }

  cell(col, i, content) {
    const el = h(
      "div",
      { class: `vgrid-cell ${col.class || ""}`.trim(), role: "gridcell" },
      content,
    );
    if (col.sticky) {
      el.classList.add("sticky");
      el.style.left = `${this.offsets[i]}px`;
    }
    return el;
  }

  headerCell(col, i) {
    let content = col.header ? col.header() : col.label;
    if (col.sortKey && this.onSort) {
      const active = this.sort && this.sort.key === col.sortKey;
      content = h(
        "button",
        {
          class: `sort${active ? " active" : ""}`,
          type: "button",
          title: col.title || col.label,
          on: { click: () => this.onSort(col.sortKey) },
        },
        col.group
          ? h("span", { class: "head-group", "aria-hidden": "true", text: col.group })
          : null,
        h("span", { class: "clip", text: col.label }),
        h("span", {
          class: "sort-mark",
          "aria-hidden": "true",
          text: active ? (this.sort.desc ? "▼" : "▲") : "",
        }),
      );
    } else if (!col.header) {
      content = h("span", { class: "clip", title: col.title || col.label, text: col.label });
    }
    const el = this.cell(col, i, content);
    el.setAttribute("role", "columnheader");
    if (col.sortKey && this.sort && this.sort.key === col.sortKey)
      el.setAttribute("aria-sort", this.sort.desc ? "descending" : "ascending");
    if (col.group) el.classList.add(`group-${col.group}`);
    return el;
  }
}
