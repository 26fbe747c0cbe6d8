import { html } from "htm/preact";
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";

const PALETTE = ["#3b82f6", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6", "#ec4899"];

/**
 * Draws a uPlot chart into `element` and keeps it as wide as its container (so it fits a phone);
 * returns the effect's cleanup.
 */
export function mountChart(options, data, element, height) {
  const chart = new uPlot(options, data, element);
  const observer = new ResizeObserver(() =>
    chart.setSize({ width: Math.max(240, element.clientWidth), height }),
  );
  observer.observe(element);
  return () => {
    observer.disconnect();
    chart.destroy();
  };
}

/**
 * A time-series chart (uPlot). `data` is [ts[], ...series[]] with ts in seconds; `series` names
 * each column. Resizes with its container, so it fits a phone's width.
 */
export function TimeChart({ title, data, series, unit = "", height = 180, yRange }) {
  const box = useRef(null);
  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const dark = matchMedia("(prefers-color-scheme: dark)").matches;
    const axis = { stroke: dark ? "#aab" : "#445", grid: { stroke: dark ? "#333" : "#e5e7eb" } };
    const options = {
      width: Math.max(240, element.clientWidth),
      height,
      series: [
        {},
        ...series.map((label, i) => ({
          label,
          stroke: PALETTE[i % PALETTE.length],
          width: 1.5,
          value: (_u, v) => (v === null || v === undefined ? "—" : `${v.toFixed(1)}${unit}`),
        })),
      ],
      axes: [axis, { ...axis, size: 56, values: (_u, ticks) => ticks.map((t) => `${t}${unit}`) }],
      scales: yRange ? { y: { range: yRange } } : {},
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
    };
    return mountChart(options, data, element, height);
  }, [data, series.join(","), height, unit]);
  return html`<figure class="chart">
    <figcaption>${title}</figcaption>
    <div ref=${box} role="img" aria-label=${`${title} chart`}></div>
  </figure>`;
}
