/**
 * Metric charts (uPlot, vendored). The server sends each history already reduced to
 * about two points per pixel column (min/max per bucket), so a 1M-point metric costs a
 * few thousand points here. Dragging across a chart zooms in; when the data shown was
 * downsampled, the zoomed window is fetched again at full resolution (or as close to it
 * as the pixel width allows). A double click zooms back out.
 * Charts render only once scrolled into view, so a run with 200 metrics stays fast.
 */

import { metrics } from "../api.js";
import { download, safeName, toCsv } from "../csv.js";
import { h, icon } from "../dom.js";
import { segmented } from "./controls.js";
import * as fmt from "../format.js";

const PALETTE = [
  "#2563eb",
  "#dc2626",
  "#059669",
  "#d97706",
  "#7c3aed",
  "#0891b2",
  "#db2777",
  "#65a30d",
  "#4b5563",
  "#ea580c",
];
const RUNS_PER_REQUEST = 100;
const MAX_PAIRED = 10000;
const HEIGHT = 220;

/** The first ten runs get the palette; later ones a golden-angle hue, so none repeat. */
export function runColor(index) {
  if (index < PALETTE.length) return PALETTE[index];
  return `hsl(${Math.round((index * 137.508) % 360)}, 62%, 44%)`;
}

/** Past this many runs a chart's legend shows the hovered value only, not every run. */
const LEGEND_RUNS = 10;

export const X_AXES = [
  ["step", "Step"],
  ["time", "Wall time"],
  ["relative", "Relative time"],
];

/** The x axis: step, wall time or relative time, or another metric (``metric:<key>``). */
export function xAxisControls(keys, value, onChange) {
  const metric = xMetricSelect(keys, value, (x) => {
    axes
      .querySelectorAll(".seg")
      .forEach((b, i) => b.setAttribute("aria-pressed", String(!x && X_AXES[i][0] === "step")));
    onChange(x || "step");
  });
  const axes = segmented(X_AXES, value, (x) => {
    metric.querySelector("select").value = "";
    onChange(x);
  });
  return [axes, metric];
}

/** A choice of another metric as the x axis (``metric:<key>``), or none. */
function xMetricSelect(keys, value, onChange) {
  const select = h(
    "select",
    { "aria-label": "Metric as x axis", on: { change: () => onChange(select.value) } },
    h("option", { value: "" }, "—"),
    keys.map((key) =>
      h("option", { value: `metric:${key}`, selected: value === `metric:${key}` }, key),
    ),
  );
  return h("label", { class: "field inline" }, h("span", { text: "or x =" }), select);
}

/**
 * A grid of charts, one per metric key, for ``runs`` (``[{id, label, color, start}]``).
 * ``options``: ``{xAxis, logScale}``.
 */
export function chartGrid(keys, runs, options, ctx) {
  const charts = keys.map((key) => new MetricChart(key, runs, options));
  const observer = new IntersectionObserver(
    (entries) => {
      for (const entry of entries) {
        if (!entry.isIntersecting) continue;
        observer.unobserve(entry.target);
        charts.find((c) => c.element === entry.target)?.load(ctx.signal);
      }
    },
    { rootMargin: "200px" },
  );
  charts.forEach((chart) => observer.observe(chart.element));
  const grid = h(
    "div",
    { class: "chart-grid" },
    charts.map((c) => c.element),
  );
  const destroy = () => {
    observer.disconnect();
    charts.forEach((c) => c.destroy());
  };
  return { element: grid, destroy };
}

class MetricChart {
  constructor(key, runs, { xAxis, logScale, smoothing = 0 }) {
    /** Another metric as the x axis (``metric:<key>``): points pair up by step. */
    this.xMetric = xAxis.startsWith("metric:") ? xAxis.slice("metric:".length) : null;
    this.smoothing = smoothing;
    this.key = key;
    this.runs = runs;
    this.xAxis = xAxis;
    this.logScale = logScale;
    this.plot = null;
    this.range = null; // [min, max] in server units while zoomed in
    this.note = h("span", { class: "chart-note" });
    this.host = h("div", { class: "chart-host" }, h("div", { class: "chart-placeholder" }));
    this.element = h(
      "section",
      { class: "chart-card", dataset: { metric: key } },
      h(
        "header",
        null,
        h("h3", { class: "clip", title: key, text: key }),
        this.note,
        h(
          "button",
          {
            class: "btn small ghost",
            type: "button",
            title: "Download the points shown as CSV",
            "aria-label": `Download ${key} as CSV`,
            on: { click: () => this.exportCsv() },
          },
          icon("download"),
          "CSV",
        ),
      ),
      this.host,
    );
    this.resize = new ResizeObserver(() => {
      if (this.plot) this.plot.setSize(this.size());
    });
  }

  size() {
    return { width: Math.max(this.host.clientWidth, 200), height: HEIGHT };
  }

  destroy() {
    this.resize.disconnect();
    this.plot?.destroy();
    this.plot = null;
  }

  /** Fetch (a window of) the history of every run and draw it. */
  async load(signal, range = null) {
    this.signal = signal;
    if (this.xMetric) return this.loadAgainst(signal);
    const width = this.size().width;
    const query = {
      metric_key: this.key,
      x_axis: this.xAxis === "step" ? "step" : "timestamp",
      max_points: Math.min(4000, Math.max(200, Math.round(width * 2))),
    };
    if (range) [query.x_min, query.x_max] = range;
    let series;
    try {
      series = [];
      for (let i = 0; i < this.runs.length; i += RUNS_PER_REQUEST) {
        const ids = this.runs.slice(i, i + RUNS_PER_REQUEST).map((r) => r.id);
        const result = await metrics.sampled({ ...query, run_id: ids }, signal);
        series.push(...result.series);
      }
    } catch (error) {
      if (error.name === "AbortError") return;
      this.host.replaceChildren(
        h("p", {
          class: "chart-error",
          role: "alert",
          text: `Could not load ${this.key}: ${error.message}`,
        }),
      );
      return;
    }
    this.range = range;
    this.draw(series);
  }

  draw(series) {
    const total = series.reduce((n, s) => n + s.point_count, 0);
    const shown = series.reduce((n, s) => n + s.x.length, 0);
    const downsampled = series.some((s) => s.downsampled);
    // NaN values arrive as null: marked under the plot, never silently dropped.
    this.nans = series.map((s) => {
      const run = this.runs.find((r) => r.id === s.run_id);
      return {
        color: run?.color || PALETTE[0],
        xs: s.x.filter((_, i) => s.y[i] == null).map((x) => this.toPlotX(x, run)),
      };
    });
    const nanCount = this.nans.reduce((n, s) => n + s.xs.length, 0);
    const nanNote = nanCount ? ` · ${fmt.count(nanCount)} NaN` : "";
    this.note.textContent = downsampled
      ? `${fmt.count(total)} points · showing ${fmt.count(shown)} (min/max)${nanNote}${this.range ? " · zoomed" : ""}`
      : `${fmt.count(total)} point${total === 1 ? "" : "s"}${nanNote}${this.range ? " · zoomed" : ""}`;
    this.note.title = downsampled
      ? "Downsampled on the server: each bucket keeps its minimum and maximum. Drag to zoom in for detail."
      : "";
    this.downsampled = downsampled;
    if (!shown) {
      this.plot?.destroy();
      this.plot = null;
      this.host.replaceChildren(h("p", { class: "muted chart-empty", text: "No values" }));
      return;
    }
    this.series = series;
    const tables = series.map((s) => {
      const run = this.runs.find((r) => r.id === s.run_id);
      return [s.x.map((x) => this.toPlotX(x, run)), smooth(s.y, this.smoothing)];
    });
    const data = tables.length === 1 ? tables[0] : window.uPlot.join(tables);
    const positive = data.slice(1).every((ys) => ys.every((y) => y == null || y > 0));
    const log = this.logScale && positive;
    if (this.plot) this.plot.destroy();
    this.host.replaceChildren();
    this.plot = new window.uPlot(this.options(series, log), data, this.host);
    this.resize.observe(this.host);
  }

  /** The points as fetched (downsampled or not; never smoothed), one row per point. */
  exportCsv() {
    const x = this.xAxis === "step" ? "step" : "timestamp_ms";
    const rows = [];
    for (const s of this.series || []) {
      const run = this.runs.find((r) => r.id === s.run_id);
      s.x.forEach((value, i) => rows.push([s.run_id, run?.label || "", value, s.y[i]]));
    }
    download(`${safeName(this.key)}.csv`, toCsv(["run_id", "run_name", x, this.key], rows));
  }

  /**
   * This metric against another one: both histories in full (up to MAX_PAIRED points per
   * run), paired by step, sorted by the x metric. Longer histories are paired as sampled.
   */
  async loadAgainst(signal) {
    const histories = async (key) => {
      const found = [];
      for (let i = 0; i < this.runs.length; i += RUNS_PER_REQUEST) {
        const ids = this.runs.slice(i, i + RUNS_PER_REQUEST).map((r) => r.id);
        const query = { metric_key: key, x_axis: "step", max_points: MAX_PAIRED, run_id: ids };
        found.push(...(await metrics.sampled(query, signal)).series);
      }
      return found;
    };
    let ys;
    let xs;
    try {
      [ys, xs] = await Promise.all([histories(this.key), histories(this.xMetric)]);
    } catch (error) {
      if (error.name === "AbortError") return;
      this.host.replaceChildren(
        h("p", { class: "chart-error", role: "alert", text: `Could not load: ${error.message}` }),
      );
      return;
    }
    const series = ys.map((s) => {
      const other = xs.find((x) => x.run_id === s.run_id) || { x: [], y: [] };
      const byStep = new Map(other.x.map((step, i) => [step, other.y[i]]));
      const byX = new Map();
      s.x.forEach((step, i) => {
        const x = byStep.get(step);
        if (x != null && Number.isFinite(x)) byX.set(x, s.y[i]);
      });
      const pairs = [...byX].sort((a, b) => a[0] - b[0]);
      return {
        ...s,
        x: pairs.map((p) => p[0]),
        y: pairs.map((p) => p[1]),
        downsampled: s.downsampled || Boolean(other.downsampled),
      };
    });
    this.range = null;
    this.draw(series);
  }

  toPlotX(x, run) {
    if (this.xMetric) return x;
    if (this.xAxis === "step") return x;
    if (this.xAxis === "time") return x / 1000;
    return (x - (run?.start || 0)) / 1000;
  }

  fromPlotX(value) {
    return this.xAxis === "step" ? value : value * 1000;
  }

  options(series, log) {
    const multi = series.length > 1;
    const xLabel = this.xMetric || X_AXES.find(([v]) => v === this.xAxis)[1];
    return {
      ...this.size(),
      scales: { x: { time: this.xAxis === "time" }, y: { distr: log ? 3 : 1 } },
      series: [
        { label: xLabel, value: (u, v) => (v == null ? "—" : this.formatX(v)) },
        ...series.map((s) => {
          const run = this.runs.find((r) => r.id === s.run_id);
          return {
            label: run?.label || s.run_id,
            stroke: run?.color || PALETTE[0],
            width: 1.5,
            spanGaps: multi,
            points: { show: s.x.length < 60 },
            value: (u, v) => (v == null ? "—" : fmt.number(v)),
          };
        }),
      ],
      axes: [
        {
          stroke: "#64748b",
          grid: { stroke: "#eef2f7" },
          ticks: { stroke: "#e2e8f0" },
          ...(this.xAxis === "relative"
            ? { values: (u, vals) => vals.map((v) => fmt.duration(v * 1000)) }
            : {}),
        },
        {
          stroke: "#64748b",
          grid: { stroke: "#eef2f7" },
          ticks: { stroke: "#e2e8f0" },
          size: 64,
          values: (u, vals) => vals.map((v) => fmt.number(v)),
        },
      ],
      legend: { live: true, show: series.length <= LEGEND_RUNS },
      cursor: { drag: { x: true, y: false, setScale: false } },
      hooks: {
        setSelect: [(u) => this.onSelect(u)],
        ready: [(u) => u.over.addEventListener("dblclick", () => this.zoomOut())],
        draw: [(u) => this.drawNans(u)],
      },
    };
  }

  /** A small triangle on the x axis, in the run's colour, at each NaN value. */
  drawNans(u) {
    const g = u.ctx;
    const ratio = window.devicePixelRatio || 1;
    const bottom = u.bbox.top + u.bbox.height;
    const size = 4 * ratio;
    g.save();
    for (const { color, xs } of this.nans || []) {
      g.fillStyle = color;
      for (const x of xs) {
        const px = u.valToPos(x, "x", true);
        if (px < u.bbox.left || px > u.bbox.left + u.bbox.width) continue;
        g.beginPath();
        g.moveTo(px, bottom - size * 2);
        g.lineTo(px - size, bottom);
        g.lineTo(px + size, bottom);
        g.fill();
      }
    }
    g.restore();
  }

  formatX(v) {
    if (this.xMetric) return fmt.number(v);
    if (this.xAxis === "step") return fmt.count(Math.round(v));
    if (this.xAxis === "time") return fmt.date(v * 1000);
    return fmt.duration(v * 1000);
  }

  onSelect(u) {
    const { left, width } = u.select;
    if (width < 4) return;
    const min = u.posToVal(left, "x");
    const max = u.posToVal(left + width, "x");
    u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
    // Absolute axes can fetch the window again; relative time differs per run, so it zooms locally.
    if (this.downsampled && this.xAxis !== "relative" && !this.xMetric) {
      this.load(this.signal, [Math.floor(this.fromPlotX(min)), Math.ceil(this.fromPlotX(max))]);
    } else {
      this.zoomedLocally = true;
      u.setScale("x", { min, max });
    }
  }

  zoomOut() {
    if (this.range) {
      this.load(this.signal, null);
    } else if (this.zoomedLocally && this.plot) {
      this.zoomedLocally = false;
      const xs = this.plot.data[0];
      this.plot.setScale("x", { min: xs[0], max: xs[xs.length - 1] });
    }
  }
}

/** An exponential moving average (TensorBoard's smoothing); gaps stay gaps. */
export function smooth(ys, weight) {
  if (!weight) return ys;
  let last = null;
  return ys.map((y) => {
    if (y == null || !Number.isFinite(y)) return y;
    last = last == null ? y : last * weight + y * (1 - weight);
    return last;
  });
}
