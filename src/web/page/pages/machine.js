import { html } from "htm/preact";
import { query } from "../api.js";
import { TimeChart } from "../chart.js";
import { Badge, Loaded, pct, useApi, when } from "../ui.js";

const RANGES = ["1h", "6h", "24h", "7d", "30d", "90d"];

export function MachinePage({ location }) {
  const range = location.params.get("range") ?? "24h";
  const series = useApi(`/v0/monitor/series${query({ range })}`);
  const idle = useApi("/v0/monitor/idle");
  const quiet = useApi("/v0/monitor/quiet-hours");
  return html`<h1>Machine</h1>
    <section aria-labelledby="idle-h">
      <h2 id="idle-h">Idle gate now</h2>
      <${Loaded} state=${idle} what="the idle gate">${(g) => html`<${IdleGate} gate=${g} />`}<//>
    </section>
    <section aria-labelledby="charts-h">
      <h2 id="charts-h">Load</h2>
      <nav class="tabs" aria-label="Time range">
        ${RANGES.map((r) => html`<a href=${`/ui/machine${query({ range: r })}`} aria-current=${r === range ? "page" : undefined}>${r}</a>`)}
      </nav>
      <${Loaded} state=${series} what="samples">${(s) => html`<${Charts} s=${s} />`}<//>
    </section>
    <section aria-labelledby="quiet-h">
      <h2 id="quiet-h">Quiet hours</h2>
      <${Loaded} state=${quiet} what="the quiet hours">${(p) => html`<${Heatmap} profile=${p} />`}<//>
    </section>`;
}

function IdleGate({ gate }) {
  const v = gate.values;
  const reasons =
    gate.reasons === "not enough data"
      ? [`not enough data: ${v.samples} of ${v.expected_samples} samples in the window`]
      : gate.reasons.map(
          (r) => `${r.metric} ${r.value.toFixed(1)} over the threshold ${r.threshold}`,
        );
  return html`<p>
      ${gate.idle ? html`<${Badge} kind="good">idle<//>` : html`<${Badge} kind="warn">busy<//>`}
      <span> ${when(v.from)} – ${when(v.to)}: CPU ${pct(v.cpu_pct)}, RAM ${pct(v.ram_pct)}${v.gpus.map((g) => `, GPU ${g.index} ${pct(g.util_pct)}`)};
      ${v.minutes_since_user_activity === null ? " no user activity recorded" : ` user last active ${v.minutes_since_user_activity.toFixed(0)} min ago`}</span>
    </p>
    ${reasons.length ? html`<ul>${reasons.map((r) => html`<li>${r}</li>`)}</ul>` : null}`;
}

function Charts({ s }) {
  if (s.ts.length === 0) return html`<p class="muted">No samples in this range.</p>`;
  const gpuIndexes = Object.keys(s.gpus);
  const mbps = (col) => col.map((v) => (v === null ? null : v / 1_048_576));
  const hasDisk =
    s.disk_read_bps.some((v) => v !== null) || s.disk_write_bps.some((v) => v !== null);
  return html`<p class="muted small">${s.resolution === "raw" ? "raw samples" : "hourly averages"} · ${s.ts.length} points</p>
    <div class="charts">
      <${TimeChart} title="CPU and RAM" unit="%" yRange=${[0, 100]} data=${[s.ts, s.cpu_pct, s.ram_pct]} series=${["CPU", "RAM"]} />
      ${hasDisk ? html`<${TimeChart} title="Disk (MB/s)" data=${[s.ts, mbps(s.disk_read_bps), mbps(s.disk_write_bps)]} series=${["read", "write"]} />` : null}
      ${gpuIndexes.map(
        (i) => html`<${TimeChart} title=${`GPU ${i}`} unit="%" yRange=${[0, 100]}
          data=${[s.ts, s.gpus[i].util_pct, s.gpus[i].mem_used_mb.map((m, n) => (m === null || !s.gpus[i].mem_total_mb[n] ? null : (100 * m) / s.gpus[i].mem_total_mb[n]))]}
          series=${["utilization", "memory"]} />`,
      )}
    </div>`;
}

/** P(idle) by weekday and hour: darker is more often idle; windows are outlined. */
function Heatmap({ profile }) {
  const inWindow = (day, hour) =>
    profile.windows.some((w) => {
      const start = profile.days.indexOf(w.start_day) * 24 + w.start_hour;
      const at = day * 24 + hour;
      return (at - start + 168) % 168 < w.hours;
    });
  return html`<p>
      ${profile.ready ? html`<${Badge} kind="good">learned<//>` : html`<${Badge} kind="warn">still learning<//>`}
      <span> ${profile.days_of_data.toFixed(1)} days of history, confidence ${(profile.confidence * 100).toFixed(0)} %${profile.needs ? `; ${profile.needs}` : ""}</span>
    </p>
    <div class="scroll"><table class="heatmap" data-testid="heatmap">
      <caption class="muted small">Probability the machine is idle, by local weekday and hour</caption>
      <thead><tr><th></th>${Array.from({ length: 24 }, (_, h) => html`<th scope="col">${h % 3 === 0 ? String(h).padStart(2, "0") : ""}</th>`)}</tr></thead>
      <tbody>
        ${profile.probabilities.map(
          (row, d) => html`<tr>
            <th scope="row">${profile.days[d]}</th>
            ${row.map(
              (
                p,
                h,
              ) => html`<td class=${`cell shade-${p === null ? "none" : Math.min(9, Math.floor(p * 10))}${inWindow(d, h) ? " window" : ""}`}
              title=${`${profile.days[d]} ${String(h).padStart(2, "0")}:00 — ${p === null ? "no data" : `${(p * 100).toFixed(0)} % idle`}`}></td>`,
            )}
          </tr>`,
        )}
      </tbody>
    </table></div>
    ${profile.windows.length ? html`<h3>Usual quiet windows</h3><ul>${profile.windows.map((w) => html`<li>${w.label} <span class="muted">(${(w.mean_probability * 100).toFixed(0)} % idle)</span></li>`)}</ul>` : null}`;
}
