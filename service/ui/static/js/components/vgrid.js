/**
 * A virtualised grid: thousands of rows, but only the ones in view (plus a margin) exist
 * in the DOM, so scrolling stays smooth at 10,000 runs. Rows have a fixed height; the
 * header sticks to the top and the first columns to the left. ``onNearEnd`` asks for the
 * next page when the user scrolls close to the last loaded row.
 *
 * Keyboard (WAI-ARIA grid pattern): the grid is one tab stop, its active cell; arrow keys,
 * Home/End, Ctrl+Home/End and PageUp/PageDown move it, rendering rows out of view first,
 * and moving past the last loaded row waits for the next page. Sorting from the keyboard
 * keeps focus on the header that was pressed.
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
    this.element = h("div", { class: "vgrid", role: "grid", "aria-label": label }, this.inner);
    this.active = { row: -1, col: 1 }; // row -1 is the header
    this.pending = null; // a move waiting for the next page
    this.element.addEventListener("keydown", (event) => this.onKey(event));
    this.element.addEventListener("focusin", (event) => this.onFocus(event));
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
    const refocus = this.head.contains(document.activeElement) && this.active.row === -1;
    this.head.replaceChildren(...columns.map((col, i) => this.headerCell(col, i)));
    this.rove(this.head, -1);
    this.clearRows();
    if (refocus) this.focusActive();
  }

  setRows(rows) {
    this.rows = rows;
    this.body.style.height = `${rows.length * this.rowHeight}px`;
    if (this.active.row >= rows.length) this.active.row = rows.length - 1;
    this.clearRows();
    if (this.pending !== null && this.pending < rows.length) {
      const row = this.pending;
      this.pending = null;
      this.moveTo(row, this.active.col);
    }
  }

  /** Drop the rendered rows; if one held focus, render again now and keep it focused. */
  clearRows() {
    const focused = this.active.row >= 0 && this.body.contains(document.activeElement);
    for (const el of this.live.values()) el.remove();
    this.live.clear();
    if (focused) {
      this.update();
      this.focusActive();
    } else {
      this.schedule();
    }
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
        this.rove(el, index);
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

  // --- keyboard ---------------------------------------------------------------------

  /** Only the active cell's control is in the tab order; every other one is -1. */
  rove(rowEl, index) {
    [...rowEl.children].forEach((cell, col) => {
      const target = this.focusTarget(cell);
      const on = index === this.active.row && col === this.active.col;
      target.setAttribute("tabindex", on ? "0" : "-1");
      if (target !== cell) cell.removeAttribute("tabindex");
    });
  }

  /** A cell's first control (link, button, checkbox), or the cell itself. */
  focusTarget(cell) {
    return cell.querySelector("a, button, input, select") || cell;
  }

  rowEl(index) {
    return index === -1 ? this.head : this.live.get(index);
  }

  onFocus(event) {
    const cell = event.target.closest('[role="gridcell"], [role="columnheader"]');
    if (!cell) return;
    const rowEl = cell.parentElement;
    const col = [...rowEl.children].indexOf(cell);
    const row = rowEl === this.head ? -1 : Number(rowEl.getAttribute("aria-rowindex")) - 2;
    if (row === this.active.row && col === this.active.col) return;
    const previous = this.rowEl(this.active.row);
    this.active = { row, col };
    if (previous) this.rove(previous, previous === this.head ? -1 : this.indexOf(previous));
    this.rove(rowEl, row);
  }

  indexOf(rowEl) {
    return Number(rowEl.getAttribute("aria-rowindex")) - 2;
  }

  onKey(event) {
    if (event.target.closest("input[type=text], input[type=search]")) return;
    const { row, col } = this.active;
    const last = this.columns.length - 1;
    const page = Math.max(1, Math.floor(this.element.clientHeight / this.rowHeight) - 1);
    const moves = {
      ArrowDown: [row + 1, col],
      ArrowUp: [row - 1, col],
      ArrowRight: [row, Math.min(last, col + 1)],
      ArrowLeft: [row, Math.max(0, col - 1)],
      Home: event.ctrlKey ? [0, 0] : [row, 0],
      End: event.ctrlKey ? [this.rows.length - 1, last] : [row, last],
      PageDown: [row + page, col],
      PageUp: [Math.max(0, row - page), col],
    };
    const move = moves[event.key];
    if (!move) return;
    event.preventDefault();
    const column = move[1];
    let target = Math.max(-1, move[0]);
    if (target >= this.rows.length) {
      // Past the last loaded row: ask for the next page and move once it is here.
      this.pending = target;
      if (this.onNearEnd) this.onNearEnd();
      target = this.rows.length - 1;
    }
    this.moveTo(target, column);
  }

  /** Make (row, col) the active cell: scroll it into view, render it, focus it. */
  moveTo(row, col) {
    const previous = this.rowEl(this.active.row);
    this.active = { row, col };
    if (previous) this.rove(previous, previous === this.head ? -1 : this.indexOf(previous));
    if (row >= 0) {
      const top = row * this.rowHeight;
      const view = this.element.clientHeight - this.head.offsetHeight;
      if (top < this.element.scrollTop) this.element.scrollTop = top;
      else if (top + this.rowHeight > this.element.scrollTop + view)
        this.element.scrollTop = top + this.rowHeight - view;
      this.update();
    }
    const rowEl = this.rowEl(row);
    if (rowEl) this.rove(rowEl, row);
    this.focusActive();
  }

  focusActive() {
    const rowEl = this.rowEl(this.active.row);
    const cell = rowEl?.children[this.active.col];
    if (cell) this.focusTarget(cell).focus({ preventScroll: this.active.row >= 0 });
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
