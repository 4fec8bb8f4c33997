/**
 * A trace's spans as a collapsible tree (the WAI-ARIA tree pattern, flat with
 * ``aria-level``) with a timeline: each row's bar is placed by the span's start and end
 * relative to the trace. Rows exist only for unfolded spans, and a span shows its
 * children ``CHUNK`` at a time, so a 10,000-span trace costs a few hundred rows.
 *
 * Keyboard: one tab stop; Up/Down, Home/End move (and select), Right unfolds or enters,
 * Left folds or goes to the parent, Enter/Space fold or unfold (or show more).
 */

import { h, icon } from "../dom.js";
import * as fmt from "../format.js";

/** Children shown per span before a "Show more" row. */
export const CHUNK = 200;
/** Unfold breadth-first at first until about this many rows show. */
const FIRST_ROWS = 300;

export class SpanTree {
  /** ``tree``: from tracedata.spanTree; ``onSelect(span)`` on every selection. */
  constructor(tree, { label, onSelect }) {
    this.tree = tree;
    this.onSelect = onSelect;
    this.total = Math.max(tree.end - tree.start, 1e-6);
    this.rows = new Map(); // span (or "more" marker) -> row element
    this.state = new Map(); // span -> {expanded, shown, depth, parent}
    this.selected = null;
    this.body = h("div", {
      class: "span-tree",
      role: "tree",
      "aria-label": label,
      on: { keydown: (event) => this.key(event), click: (event) => this.click(event) },
    });
    this.element = h("div", { class: "span-tree-host" }, this.scale(), this.body);
    const started = performance.now();
    for (const root of tree.roots) this.register(root, 1, null);
    this.unfoldFirst();
    this.body.append(...this.visible(tree.roots));
    this.body.dataset.renderMs = String(Math.round(performance.now() - started));
  }

  /** The time axis above the bars: 0, quarters, the trace's span of time. */
  scale() {
    return h(
      "div",
      { class: "span-scale", "aria-hidden": "true" },
      h("span", { class: "span-scale-label", text: "Span" }),
      h(
        "span",
        { class: "span-ticks" },
        [0, 0.25, 0.5, 0.75, 1].map((f) =>
          h(
            "span",
            { class: "span-tick", style: { left: `${f * 100}%` } },
            fmt.duration(f * this.total),
          ),
        ),
      ),
    );
  }

  register(span, depth, parent) {
    this.state.set(span, { expanded: false, shown: 0, depth, parent });
    for (const child of span.children) this.register(child, depth + 1, span);
  }

  unfoldFirst() {
    let rows = this.tree.roots.length;
    const queue = [...this.tree.roots];
    while (queue.length && rows < FIRST_ROWS) {
      const span = queue.shift();
      if (!span.children.length) continue;
      const s = this.state.get(span);
      s.expanded = true;
      s.shown = Math.min(CHUNK, span.children.length);
      rows += s.shown + (s.shown < span.children.length ? 1 : 0);
      queue.push(...span.children.slice(0, s.shown));
    }
  }

  /** The rows of ``spans`` and their unfolded descendants, in order. */
  visible(spans) {
    const out = [];
    const walk = (span) => {
      out.push(this.row(span));
      const s = this.state.get(span);
      if (!s.expanded) return;
      span.children.slice(0, s.shown).forEach(walk);
      if (s.shown < span.children.length) out.push(this.moreRow(span));
    };
    spans.forEach(walk);
    return out;
  }

  row(span) {
    let row = this.rows.get(span);
    if (row) return row;
    const s = this.state.get(span);
    const siblings = s.parent ? s.parent.children : this.tree.roots;
    const duration = span.end != null && span.start != null ? span.end - span.start : null;
    const offset = span.start != null ? span.start - this.tree.start : 0;
    const bar = h("span", {
      class: `span-bar${span.status === "ERROR" ? " error" : ""}`,
      style: {
        left: `${(offset / this.total) * 100}%`,
        width: `${Math.max(((duration ?? 0) / this.total) * 100, 0.3)}%`,
      },
    });
    row = h(
      "div",
      {
        class: "span-row",
        role: "treeitem",
        tabindex: "-1",
        "aria-level": String(s.depth),
        "aria-setsize": String(siblings.length),
        "aria-posinset": String(siblings.indexOf(span) + 1),
        "aria-selected": "false",
        "aria-expanded": span.children.length ? String(s.expanded) : null,
        dataset: { spanId: span.id },
      },
      h(
        "span",
        { class: "span-label", style: { paddingLeft: `${(s.depth - 1) * 14}px` } },
        span.children.length
          ? icon(s.expanded ? "chevronDown" : "chevronRight", "icon caret")
          : h("span", { class: "caret-space" }),
        h("span", {
          class: "span-name",
          title: span.name.slice(0, 1000),
          text: span.name || "(unnamed)",
        }),
        span.type ? h("span", { class: "span-type", text: span.type }) : null,
        span.status === "ERROR"
          ? h("span", { class: "badge bad-badge small", text: "Error" })
          : null,
      ),
      h("span", { class: "span-duration num", text: fmt.spanDuration(duration) }),
      h("span", { class: "span-track" }, bar),
    );
    row.spanRef = span;
    this.rows.set(span, row);
    return row;
  }

  moreRow(span) {
    const key = `more:${span.id}`;
    let row = this.rows.get(key);
    const s = this.state.get(span);
    const left = span.children.length - s.shown;
    const label = `Show ${fmt.count(Math.min(CHUNK, left))} more of ${fmt.count(left)} spans`;
    if (!row) {
      row = h("div", {
        class: "span-row more",
        role: "treeitem",
        tabindex: "-1",
        "aria-level": String(s.depth + 1),
      });
      row.moreOf = span;
      this.rows.set(key, row);
    }
    row.replaceChildren(
      h(
        "span",
        { class: "span-label", style: { paddingLeft: `${s.depth * 14}px` } },
        h("span", { class: "span-more", text: label }),
      ),
    );
    return row;
  }

  /** Unfold or fold ``span``, keeping every other row (and focus) where it is. */
  toggle(span, open = !this.state.get(span).expanded) {
    const s = this.state.get(span);
    if (!span.children.length || s.expanded === open) return;
    const row = this.row(span);
    if (open) {
      s.expanded = true;
      s.shown = Math.max(s.shown, Math.min(CHUNK, span.children.length));
      row.after(...this.descendants(span));
    } else {
      for (const el of this.descendants(span)) el.remove();
      s.expanded = false;
    }
    row.setAttribute("aria-expanded", String(open));
    row
      .querySelector(".caret")
      .replaceWith(icon(open ? "chevronDown" : "chevronRight", "icon caret"));
  }

  /** The rows under an unfolded ``span`` (its shown children, theirs, and "more" rows). */
  descendants(span) {
    const s = this.state.get(span);
    const rows = this.visible(span.children.slice(0, s.shown));
    if (s.shown < span.children.length) rows.push(this.moreRow(span));
    return rows;
  }

  showMore(span) {
    const s = this.state.get(span);
    const more = this.rows.get(`more:${span.id}`);
    const from = s.shown;
    s.shown = Math.min(span.children.length, s.shown + CHUNK);
    const added = this.visible(span.children.slice(from, s.shown));
    more.before(...added);
    if (s.shown >= span.children.length) more.remove();
    else this.moreRow(span);
    this.focus(added[0]);
  }

  /** Select a span (by object), unfolding its ancestors; ``focus`` moves focus there. */
  select(span, { focus = false } = {}) {
    if (!span) return;
    const chain = [];
    for (let p = this.state.get(span)?.parent; p; p = this.state.get(p).parent) chain.unshift(p);
    chain.forEach((ancestor, i) => {
      const s = this.state.get(ancestor);
      const index = ancestor.children.indexOf(chain[i + 1] || span);
      const needed = Math.min(ancestor.children.length, Math.ceil((index + 1) / CHUNK) * CHUNK);
      if (needed > s.shown && s.expanded) this.toggle(ancestor, false);
      s.shown = Math.max(s.shown, needed);
      this.toggle(ancestor, true);
    });
    if (this.selected) this.row(this.selected).setAttribute("aria-selected", "false");
    this.selected = span;
    const row = this.row(span);
    row.setAttribute("aria-selected", "true");
    this.setTabStop(row);
    if (focus) this.focus(row);
    else row.scrollIntoView({ block: "nearest" });
    this.onSelect(span);
  }

  setTabStop(row) {
    for (const el of this.body.querySelectorAll('[tabindex="0"]'))
      el.setAttribute("tabindex", "-1");
    row.setAttribute("tabindex", "0");
  }

  focus(row) {
    if (!row) return;
    this.setTabStop(row);
    row.focus();
  }

  click(event) {
    const row = event.target.closest(".span-row");
    if (!row) return;
    if (row.moreOf) return this.showMore(row.moreOf);
    const span = row.spanRef;
    if (event.target.closest(".caret")) this.toggle(span);
    this.select(span, { focus: true });
  }

  key(event) {
    const row = event.target.closest(".span-row");
    if (!row) return;
    const rows = [...this.body.children];
    const at = rows.indexOf(row);
    const span = row.spanRef;
    const go = (target) => {
      if (!target) return;
      if (target.moreOf) this.focus(target);
      else this.select(target.spanRef, { focus: true });
    };
    const handled = {
      ArrowDown: () => go(rows[at + 1]),
      ArrowUp: () => go(rows[at - 1]),
      Home: () => go(rows[0]),
      End: () => go(rows[rows.length - 1]),
      ArrowRight: () => {
        if (!span || !span.children.length) return;
        if (!this.state.get(span).expanded) this.toggle(span, true);
        else go(rows[at + 1]);
      },
      ArrowLeft: () => {
        if (row.moreOf) return go(this.row(row.moreOf));
        if (span.children.length && this.state.get(span).expanded) this.toggle(span, false);
        else go(this.state.get(span).parent && this.row(this.state.get(span).parent));
      },
      Enter: () => (row.moreOf ? this.showMore(row.moreOf) : this.toggle(span)),
      " ": () => (row.moreOf ? this.showMore(row.moreOf) : this.toggle(span)),
    }[event.key];
    if (!handled) return;
    event.preventDefault();
    handled();
  }
}
