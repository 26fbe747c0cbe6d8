import { html } from "htm/preact";
import { useEffect, useRef } from "preact/hooks";
import { mountChart } from "./chart.js";

const SERIES = [
  { label: "this run", stroke: "#3b82f6" },
  { label: "all runs", stroke: "#f59e0b" },
  { label: "perfectly calibrated", stroke: "#9ca3af", dash: [6, 4], points: { show: false } },
];

/** "0.5–0.7" → 0.6: a bucket is drawn at its middle. */
function middle(bucket) {
  const [low, high] = bucket.split("–").map(Number);
  return Math.round(((low + high) / 2) * 100) / 100;
}

/**
 * A reliability chart: the audit's found-wrong rate per confidence bucket, for one run and for
 * all runs, against the diagonal a well-calibrated agent would follow (wrong 1 - confidence).
 * `run` and `all` are the report's calibration rows; buckets with nothing judged are gaps.
 */
export function ReliabilityChart({ run, all, height = 220 }) {
  const box = useRef(null);
  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const xs = all.map((row) => middle(row.bucket));
    const rate = (rows) => rows.map((row) => (row.judged > 0 ? row.wrong_rate * 100 : null));
    const data = [xs, rate(run), rate(all), xs.map((x) => Math.round((1 - x) * 100))];
    const dark = matchMedia("(prefers-color-scheme: dark)").matches;
    const axis = { stroke: dark ? "#aab" : "#445", grid: { stroke: dark ? "#333" : "#e5e7eb" } };
    const options = {
      width: Math.max(240, element.clientWidth),
      height,
      scales: { x: { time: false, range: [0, 1] }, y: { range: [0, 100] } },
      series: [
        { label: "confidence", value: (_u, v) => (v === null ? "—" : v.toFixed(2)) },
        ...SERIES.map((s) => ({
          width: 2,
          points: { show: true, size: 7 },
          ...s,
          value: (_u, v) => (v === null || v === undefined ? "—" : `${v.toFixed(0)} %`),
        })),
      ],
      axes: [
        { ...axis, label: "agent's confidence", values: (_u, t) => t.map((v) => v.toFixed(1)) },
        { ...axis, size: 56, label: "found wrong", values: (_u, t) => t.map((v) => `${v} %`) },
      ],
      cursor: { drag: { x: false, y: false } },
    };
    return mountChart(options, data, element, height);
  }, [run, all, height]);
  return html`<figure class="chart" data-testid="reliability">
    <figcaption>Calibration: found-wrong rate by the agents' confidence</figcaption>
    <div ref=${box} role="img" aria-label="Reliability chart: found-wrong rate by confidence bucket, this run and all runs"></div>
  </figure>`;
}
