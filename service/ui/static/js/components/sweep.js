/**
 * Sweep analysis for many runs at once: parallel coordinates, a scatter plot of any param
 * or metric against any other, and box plots of a metric by a param. Each run is coloured
 * by a chosen metric on a continuous scale, and the legend is one colour bar, not a list
 * of runs. Drawn on a canvas (no DOM node per run), so 1,000 runs draw in a few tens of
 * milliseconds; each draw's time is kept in ``element.dataset.drawMs`` (measured by the
 * browser tests, budget in docs/ui.md).
 */

import { h, mount } from "../dom.js";
import { segmented } from "./controls.js";
import * as fmt from "../format.js";

const VIEWS = [
  ["parallel", "Parallel coordinates"],
  ["scatter", "Scatter"],
  ["box", "Box plot"],
];
const HEIGHT = 360;
const PAD = { left: 64, right: 24, top: 36, bottom: 44 };
const MISSING = "#cbd5e1";
const AXIS = "#64748b";
const MAX_AXES = 14;
const MAX_GROUPS = 30;
/** Viridis, sampled: perceptually even, readable for colour-blind people, prints in grey. */
const VIRIDIS = [
  [68, 1, 84],
  [72, 40, 120],
  [62, 74, 137],
  [49, 104, 142],
  [38, 130, 142],
  [31, 158, 137],
  [53, 183, 121],
  [109, 205, 89],
  [180, 222, 44],
  [253, 231, 37],
];

/** A colour for ``t`` in [0, 1] on the continuous scale. */
export function scaleColor(t) {
  if (t == null || Number.isNaN(t)) return MISSING;
  const x = Math.min(1, Math.max(0, t)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const f = x - i;
  const [a, b] = [VIRIDIS[i], VIRIDIS[i + 1]];
  const c = a.map((v, k) => Math.round(v + (b[k] - v) * f));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

/** Every param and latest metric of ``runs`` as a dimension: numeric, or categories. */
export function dimensions(runs) {
  const dims = new Map();
  const add = (kind, key, index, raw) => {
    const id = `${kind}:${key}`;
    if (!dims.has(id)) dims.set(id, { id, kind, key, label: key, raw: new Array(runs.length) });
    dims.get(id).raw[index] = raw;
  };
  runs.forEach((run, i) => {
    for (const p of run.data.params || []) add("param", p.key, i, p.value);
    for (const m of run.data.metrics || []) add("metric", m.key, i, m.value);
  });
  for (const dim of dims.values()) {
    const present = dim.raw.filter((v) => v !== undefined);
    dim.numeric = present.length > 0 && present.every((v) => toNumber(v) !== undefined);
    if (dim.numeric) {
      dim.values = dim.raw.map((v) => (v === undefined ? null : toNumber(v)));
      const finite = dim.values.filter((v) => v != null && Number.isFinite(v));
      dim.min = finite.length ? Math.min(...finite) : 0;
      dim.max = finite.length ? Math.max(...finite) : 1;
      dim.distinct = new Set(finite).size;
      // Sweeps space learning rates and the like by factors: a log axis when it spans 100x.
      dim.log = dim.min > 0 && dim.max / dim.min >= 100;
    } else {
      dim.values = dim.raw.map((v) => (v === undefined ? null : String(v)));
      dim.categories = [...new Set(dim.values.filter((v) => v != null))].sort();
      dim.distinct = dim.categories.length;
    }
  }
  return [...dims.values()].sort((a, b) =>
    a.kind === b.kind ? a.key.localeCompare(b.key) : a.kind === "param" ? -1 : 1,
  );
}

const NUMBER = /^\s*[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?\s*$/i;
const SPECIAL = { NaN: NaN, Infinity: Infinity, "-Infinity": -Infinity };

/** A param or metric value as a number, or undefined when it is not one ("adam"). */
function toNumber(value) {
  if (typeof value === "number") return value;
  if (value in SPECIAL) return SPECIAL[value];
  return NUMBER.test(value) ? Number(value) : undefined;
}

/** ``dim``'s value for run ``i`` in [0, 1] (null when missing or not a number). */
function position(dim, i) {
  const v = dim.values[i];
  if (v == null) return null;
  if (dim.numeric) {
    if (!Number.isFinite(v)) return null;
    if (dim.max === dim.min) return 0.5;
    if (dim.log) return Math.log(v / dim.min) / Math.log(dim.max / dim.min);
    return (v - dim.min) / (dim.max - dim.min);
  }
  const n = dim.categories.length;
  return n === 1 ? 0.5 : dim.categories.indexOf(v) / (n - 1);
}

/**
 * The sweep views over ``runs``. ``state``: ``{view, color, x, y, by, metric}`` dimension
 * ids from the address; ``onState(values)`` records a change there.
 */
export function sweepAnalysis(runs, state, onState) {
  const dims = dimensions(runs);
  const byId = new Map(dims.map((d) => [d.id, d]));
  const metrics = dims.filter((d) => d.kind === "metric" && d.numeric);
  const varying = dims.filter((d) => d.distinct > 1);
  const params = dims.filter((d) => d.kind === "param" && d.distinct > 1);
  const pick = (id, fallback) => (byId.has(id) ? id : fallback?.id || null);
  const s = {
    view: VIEWS.some(([v]) => v === state.view) ? state.view : "parallel",
    color: pick(state.color, metrics[0]),
    x: pick(state.x, params[0] || varying[0]),
    y: pick(state.y, metrics[0] || varying[1]),
    by: pick(state.by, params[0]),
    metric: pick(state.metric, metrics[0]),
  };

  const canvas = h("canvas", { class: "sweep-canvas", role: "img" });
  const tip = h("div", { class: "sweep-tip", hidden: true, role: "status" });
  const legend = h("div", { class: "sweep-legend" });
  const controls = h("div", { class: "toolbar sweep-controls" });
  const element = h(
    "div",
    { class: "sweep" },
    controls,
    h("div", { class: "sweep-stage" }, canvas, tip),
    legend,
  );
  let hits = []; // [x, y, run index] of drawn points, for the tooltip

  const select = (label, value, options, key) =>
    h(
      "label",
      { class: "field inline" },
      h("span", { text: label }),
      h(
        "select",
        {
          "aria-label": label,
          on: {
            change: (event) => {
              s[key] = event.target.value;
              onState({ [`sweep_${key}`]: s[key] });
              draw();
            },
          },
        },
        options.map((d) =>
          h("option", { value: d.id, selected: d.id === value }, `${d.label} (${d.kind})`),
        ),
      ),
    );

  function drawControls() {
    mount(
      controls,
      segmented(VIEWS, s.view, (view) => {
        s.view = view;
        onState({ sweep: view });
        drawControls();
        draw();
      }),
      metrics.length ? select("Colour by", s.color, metrics, "color") : null,
      s.view === "scatter"
        ? [select("X axis", s.x, dims, "x"), select("Y axis", s.y, dims, "y")]
        : null,
      s.view === "box"
        ? [select("Metric", s.metric, metrics, "metric"), select("By", s.by, dims, "by")]
        : null,
    );
  }

  function colorOf(i) {
    const dim = byId.get(s.color);
    return dim ? scaleColor(position(dim, i)) : "#2563eb";
  }

  function drawLegend() {
    const dim = byId.get(s.color);
    if (!dim) return mount(legend);
    const bar = h("span", { class: "sweep-bar", "aria-hidden": "true" });
    const stops = VIRIDIS.map((c) => `rgb(${c.join(",")})`).join(", ");
    bar.style.background = `linear-gradient(to right, ${stops})`;
    const missing = dim.values.filter((v) => v == null || !Number.isFinite(v)).length;
    return mount(
      legend,
      h("span", { class: "muted small", text: `Colour: ${dim.key}` }),
      h("span", { class: "num small", text: fmt.number(dim.min) }),
      bar,
      h("span", { class: "num small", text: fmt.number(dim.max) }),
      missing
        ? [
            h("span", { class: "swatch", style: { background: MISSING } }),
            h("span", { class: "muted small", text: `no value (${missing})` }),
          ]
        : null,
    );
  }

  function setup() {
    const width = Math.max(320, element.clientWidth || 800);
    const ratio = window.devicePixelRatio || 1;
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(HEIGHT * ratio);
    canvas.style.width = `${width}px`;
    canvas.style.height = `${HEIGHT}px`;
    const g = canvas.getContext("2d");
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.clearRect(0, 0, width, HEIGHT);
    g.font = "12px system-ui, sans-serif";
    return { g, width };
  }

  function draw() {
    const started = performance.now();
    hits = [];
    tip.hidden = true;
    const { g, width } = setup();
    if (s.view === "parallel") drawParallel(g, width);
    else if (s.view === "scatter") drawScatter(g, width);
    else drawBox(g, width);
    drawLegend();
    element.dataset.drawMs = String(Math.round((performance.now() - started) * 10) / 10);
    element.dataset.view = s.view;
  }

  function axisLabels(g, dim, x, top, bottom, align = "center") {
    g.fillStyle = AXIS;
    g.textAlign = align;
    if (dim.numeric) {
      g.fillText(fmt.number(dim.max), x, top - 6);
      g.fillText(fmt.number(dim.min), x, bottom + 14);
    } else {
      const n = dim.categories.length;
      if (n <= 12)
        dim.categories.forEach((c, k) => {
          const y = n === 1 ? (top + bottom) / 2 : bottom - (k / (n - 1)) * (bottom - top);
          g.fillText(c.length > 12 ? `${c.slice(0, 11)}…` : c, x + 4, y + 4);
        });
    }
  }

  function drawParallel(g, width) {
    const color = byId.get(s.color);
    const axes = params.slice(0, MAX_AXES - 1);
    if (color && !axes.includes(color)) axes.push(color);
    canvas.setAttribute(
      "aria-label",
      `Parallel coordinates of ${runs.length} runs over ${axes.map((a) => a.key).join(", ")}`,
    );
    if (axes.length < 2)
      return note(g, width, "Parallel coordinates need two params or metrics that vary.");
    const top = PAD.top + 10;
    const bottom = HEIGHT - PAD.bottom;
    const step = (width - PAD.left - PAD.right) / (axes.length - 1);
    const xs = axes.map((_, k) => PAD.left + k * step);
    g.globalAlpha = runs.length > 200 ? 0.35 : 0.7;
    g.lineWidth = 1.2;
    for (let i = 0; i < runs.length; i += 1) {
      g.strokeStyle = colorOf(i);
      g.beginPath();
      let drawing = false;
      axes.forEach((dim, k) => {
        const t = position(dim, i);
        if (t == null) {
          drawing = false;
          return;
        }
        const y = bottom - t * (bottom - top);
        if (drawing) g.lineTo(xs[k], y);
        else g.moveTo(xs[k], y);
        drawing = true;
      });
      g.stroke();
    }
    g.globalAlpha = 1;
    axes.forEach((dim, k) => {
      g.strokeStyle = AXIS;
      g.beginPath();
      g.moveTo(xs[k], top);
      g.lineTo(xs[k], bottom);
      g.stroke();
      g.fillStyle = "#0f172a";
      g.textAlign = k === 0 ? "left" : k === axes.length - 1 ? "right" : "center";
      g.fillText(dim.key, xs[k], 16);
      axisLabels(g, dim, xs[k], top, bottom, dim.numeric ? g.textAlign : "left");
    });
  }

  function drawScatter(g, width) {
    const dx = byId.get(s.x);
    const dy = byId.get(s.y);
    if (!dx || !dy) return note(g, width, "Nothing to plot: these runs log no params or metrics.");
    canvas.setAttribute(
      "aria-label",
      `Scatter plot of ${dy.key} against ${dx.key}, ${runs.length} runs`,
    );
    const left = PAD.left;
    const right = width - PAD.right;
    const top = PAD.top;
    const bottom = HEIGHT - PAD.bottom;
    frame(g, left, right, top, bottom);
    for (let i = 0; i < runs.length; i += 1) {
      const tx = position(dx, i);
      const ty = position(dy, i);
      if (tx == null || ty == null) continue;
      const x = left + tx * (right - left);
      const y = bottom - ty * (bottom - top);
      g.fillStyle = colorOf(i);
      g.beginPath();
      g.arc(x, y, 3.5, 0, Math.PI * 2);
      g.fill();
      hits.push([x, y, i]);
    }
    g.fillStyle = "#0f172a";
    g.textAlign = "center";
    const scale = (d) => (d.log ? ", log scale" : "");
    g.fillText(`${dx.key} (${dx.kind}${scale(dx)})`, (left + right) / 2, HEIGHT - 8);
    g.textAlign = "left";
    g.fillText(`${dy.key} (${dy.kind}${scale(dy)})`, left, 16);
    ticksX(g, dx, left, right, bottom);
    ticksY(g, dy, left, top, bottom);
  }

  function drawBox(g, width) {
    const metric = byId.get(s.metric);
    const by = byId.get(s.by);
    if (!metric || !by) return note(g, width, "A box plot needs a metric and a param.");
    canvas.setAttribute(
      "aria-label",
      `Box plot of ${metric.key} by ${by.key}, ${runs.length} runs`,
    );
    const groups = new Map();
    for (let i = 0; i < runs.length; i += 1) {
      const v = metric.values[i];
      const k = by.values[i];
      if (v == null || !Number.isFinite(v) || k == null) continue;
      if (!groups.has(k)) groups.set(k, []);
      groups.get(k).push(i);
    }
    const keys = [...groups.keys()]
      .sort((a, b) => (by.numeric ? a - b : String(a).localeCompare(String(b))))
      .slice(0, MAX_GROUPS);
    if (!keys.length) return note(g, width, `No run has both ${metric.key} and ${by.key}.`);
    const left = PAD.left;
    const right = width - PAD.right;
    const top = PAD.top;
    const bottom = HEIGHT - PAD.bottom;
    frame(g, left, right, top, bottom);
    const y = (v) =>
      bottom -
      (metric.max === metric.min ? 0.5 : (v - metric.min) / (metric.max - metric.min)) *
        (bottom - top);
    const slot = (right - left) / keys.length;
    keys.forEach((k, n) => {
      const members = groups.get(k);
      const values = members.map((i) => metric.values[i]).sort((a, b) => a - b);
      const [q1, med, q3] = [0.25, 0.5, 0.75].map((q) => quantile(values, q));
      const iqr = q3 - q1;
      const lo = values.find((v) => v >= q1 - 1.5 * iqr);
      const hi = [...values].reverse().find((v) => v <= q3 + 1.5 * iqr);
      const cx = left + slot * (n + 0.5);
      const half = Math.min(28, slot * 0.3);
      g.strokeStyle = "#334155";
      g.lineWidth = 1;
      g.beginPath();
      g.moveTo(cx, y(lo));
      g.lineTo(cx, y(q1));
      g.moveTo(cx, y(q3));
      g.lineTo(cx, y(hi));
      g.moveTo(cx - half / 2, y(lo));
      g.lineTo(cx + half / 2, y(lo));
      g.moveTo(cx - half / 2, y(hi));
      g.lineTo(cx + half / 2, y(hi));
      g.stroke();
      g.fillStyle = "rgba(148, 163, 184, 0.25)";
      g.fillRect(cx - half, y(q3), half * 2, y(q1) - y(q3));
      g.strokeRect(cx - half, y(q3), half * 2, y(q1) - y(q3));
      g.lineWidth = 2;
      g.beginPath();
      g.moveTo(cx - half, y(med));
      g.lineTo(cx + half, y(med));
      g.stroke();
      members.forEach((i, j) => {
        const px = cx + half * 1.2 + ((j * 7) % Math.max(4, half));
        const py = y(metric.values[i]);
        g.fillStyle = colorOf(i);
        g.beginPath();
        g.arc(px, py, 2.5, 0, Math.PI * 2);
        g.fill();
        hits.push([px, py, i]);
      });
      g.fillStyle = "#0f172a";
      g.textAlign = "center";
      const label = String(k);
      g.fillText(label.length > 14 ? `${label.slice(0, 13)}…` : label, cx, bottom + 16);
      g.fillStyle = AXIS;
      g.fillText(`n=${members.length}`, cx, bottom + 30);
    });
    g.fillStyle = "#0f172a";
    g.textAlign = "left";
    g.fillText(`${metric.key} by ${by.key}`, left, 16);
    ticksY(g, metric, left, top, bottom);
  }

  function frame(g, left, right, top, bottom) {
    g.strokeStyle = "#e2e8f0";
    g.strokeRect(left, top, right - left, bottom - top);
  }

  function ticksX(g, dim, left, right, bottom) {
    g.fillStyle = AXIS;
    if (dim.numeric) {
      g.textAlign = "left";
      g.fillText(fmt.number(dim.min), left, bottom + 14);
      g.textAlign = "right";
      g.fillText(fmt.number(dim.max), right, bottom + 14);
    } else if (dim.categories.length <= 12) {
      g.textAlign = "center";
      const n = dim.categories.length;
      dim.categories.forEach((c, k) =>
        g.fillText(
          c,
          n === 1 ? (left + right) / 2 : left + (k / (n - 1)) * (right - left),
          bottom + 14,
        ),
      );
    }
  }

  function ticksY(g, dim, left, top, bottom) {
    g.fillStyle = AXIS;
    g.textAlign = "right";
    if (dim.numeric) {
      g.fillText(fmt.number(dim.max), left - 6, top + 4);
      g.fillText(fmt.number(dim.min), left - 6, bottom);
    } else if (dim.categories.length <= 12) {
      const n = dim.categories.length;
      dim.categories.forEach((c, k) =>
        g.fillText(
          c,
          left - 6,
          n === 1 ? (top + bottom) / 2 : bottom - (k / (n - 1)) * (bottom - top) + 4,
        ),
      );
    }
  }

  function note(g, width, text) {
    canvas.setAttribute("aria-label", text);
    g.fillStyle = AXIS;
    g.textAlign = "center";
    g.fillText(text, width / 2, HEIGHT / 2);
  }

  canvas.addEventListener("mousemove", (event) => {
    const box = canvas.getBoundingClientRect();
    const x = event.clientX - box.left;
    const y = event.clientY - box.top;
    let best = null;
    let bestD = 64;
    for (const hit of hits) {
      const d = (hit[0] - x) ** 2 + (hit[1] - y) ** 2;
      if (d < bestD) [best, bestD] = [hit, d];
    }
    if (!best) {
      tip.hidden = true;
      return;
    }
    const run = runs[best[2]];
    const color = byId.get(s.color);
    tip.textContent = `${fmt.runName(run.info)}${color ? ` · ${color.key} ${fmt.number(color.values[best[2]])}` : ""}`;
    tip.style.left = `${best[0] + 10}px`;
    tip.style.top = `${best[1] - 10}px`;
    tip.hidden = false;
  });
  canvas.addEventListener("mouseleave", () => (tip.hidden = true));

  drawControls();
  const resize = new ResizeObserver(() => draw());
  return {
    element,
    start() {
      draw();
      resize.observe(element);
    },
    destroy: () => resize.disconnect(),
  };
}

function quantile(sorted, q) {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}
