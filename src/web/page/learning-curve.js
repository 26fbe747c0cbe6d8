import { html } from "htm/preact";
import { useMemo } from "preact/hooks";
import { TimeChart } from "./chart.js";
import { Loaded, num, useApi } from "./ui.js";

/** "2026-03-09" → that local midnight in seconds, uPlot's time axis. */
const daySeconds = (day) => {
  const [y, m, d] = day.split("-").map(Number);
  return new Date(y, m - 1, d).getTime() / 1000;
};

/**
 * The learning curve: per day, the share of reviewed actions the audit found wrong. A falling
 * line means corrections and learned patterns are working.
 */
export function LearningCurve() {
  const state = useApi("/v0/audit/learning-curve?days=90");
  return html`<section aria-labelledby="curve-h" data-testid="learning-curve">
    <h2 id="curve-h">Learning curve</h2>
    <${Loaded} state=${state} what="the learning curve">
      ${(data) =>
        data.days.length === 0
          ? html`<p class="muted">No reviewed actions in the last 90 days.</p>`
          : html`<${Curve} days=${data.days} />`}
    <//>
  </section>`;
}

function Curve({ days }) {
  const data = useMemo(
    () => [days.map((d) => daySeconds(d.day)), days.map((d) => (d.error_rate ?? 0) * 100)],
    [days],
  );
  const last = days.at(-1);
  const reviewed = days.reduce((sum, d) => sum + d.reviewed, 0);
  return html`<${TimeChart} title="Found wrong per day (wrong / reviewed)" data=${data}
      series=${["found wrong"]} unit=" %" yRange=${[0, 100]} />
    <p class="muted small">${`${num(reviewed)} actions reviewed over ${days.length} days; on ${last.day}, ${num(last.wrong)} of ${num(last.reviewed)} were wrong.`}</p>`;
}
