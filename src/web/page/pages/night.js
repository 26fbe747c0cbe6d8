import { html } from "htm/preact";
import { query } from "../api.js";
import { LearningCurve } from "../learning-curve.js";
import { ReliabilityChart } from "../reliability-chart.js";
import { Badge, Loaded, ms, num, Stat, shortId, useApi, when } from "../ui.js";

/** Audit runs, one run's report, and how well confidence predicted the verdicts. */
export function NightPage({ location }) {
  const runs = useApi("/v0/audit/runs?limit=30");
  const selected = location.params.get("run") ?? "latest";
  const report = useApi(
    runs.data?.runs.length ? `/v0/audit/runs/${encodeURIComponent(selected)}` : null,
  );
  return html`<h1>Night shift</h1>
    <${LearningCurve} />
    <${Loaded} state=${runs} what="audit runs">
      ${(data) =>
        data.runs.length === 0
          ? html`<p class="muted">No audit has run yet. It runs when the machine is quiet, or with <code>nightshift audit run</code>.</p>`
          : html`<div class="scroll"><table>
              <thead><tr><th>Run</th><th>Status</th><th>Started</th><th class="num">Reviewed</th><th class="num">Wrong</th><th class="num">Corrections</th><th class="num">To review</th><th class="num">Patterns</th></tr></thead>
              <tbody>${data.runs.map(
                (r) => html`<tr>
                  <td><a href=${`/ui/night${query({ run: r.id })}`} aria-current=${r.id === selected ? "true" : undefined}>${shortId(r.id)}</a></td>
                  <td><${Badge} kind=${r.status === "done" ? "good" : r.status === "failed" ? "bad" : "warn"}>${r.status}<//></td>
                  <td>${when(r.started_at)}</td>
                  <td class="num">${num(r.summary.items)}</td>
                  <td class="num">${num(r.summary.verdicts.incorrect)}</td>
                  <td class="num">${num(r.summary.corrections)}</td>
                  <td class="num">${num(r.summary.review_items_opened)}</td>
                  <td class="num">${num(r.summary.patterns_written)}</td>
                </tr>`,
              )}</tbody>
            </table></div>`}
    <//>
    ${report.data || report.error ? html`<${Loaded} state=${report} what="the report">${(r) => html`<${Report} r=${r} />`}<//>` : null}`;
}

function Report({ r }) {
  return html`<section aria-labelledby="report-h">
    <h2 id="report-h">Run ${shortId(r.run.id)} <span class="muted">${r.run.reviewer_model ?? ""}</span></h2>
    <div class="stats">
      <${Stat} label="reviewed" value=${num(r.items.total)} />
      <${Stat} label="correct" value=${num(r.verdicts.correct)} />
      <${Stat} label="wrong" value=${num(r.verdicts.incorrect)} />
      <${Stat} label="unsure" value=${num(r.verdicts.unsure)} />
      <${Stat} label="corrections applied" value=${`${num(r.corrections.applied)} / ${num(r.corrections.total)}`} />
      <${Stat} label="reviewer calls" value=${num(r.usage.reviewer_calls)} />
      <${Stat} label="model time" value=${ms(r.usage.model_ms)} />
    </div>
    <div class="grid2">
      <${ReliabilityChart} run=${r.calibration} all=${r.calibration_all_runs} />
      <${CalibrationTable} run=${r.calibration} all=${r.calibration_all_runs} />
    </div>
    ${r.corrections.list.length ? html`<h3>Corrections</h3><${JsonList} rows=${r.corrections.list} />` : null}
    ${r.insights.length ? html`<h3>Insights</h3><ul>${r.insights.map((i) => html`<li>${i.description}</li>`)}</ul>` : null}
    ${r.patterns_written.count ? html`<h3>Knowledge written</h3><ul>${r.patterns_written.keys.map((k) => html`<li><a href=${`/ui/kb${query({ q: k })}`}>${k}</a></li>`)}</ul>` : null}
  </section>`;
}

function JsonList({ rows }) {
  return html`<div class="scroll"><table>
    <thead><tr><th>Action</th><th>Agent</th><th>Was</th><th>Now</th><th>Why</th><th>Applied</th></tr></thead>
    <tbody>${rows.map(
      (c) => html`<tr>
        <td><a href=${`/ui/actions/${c.action_id}`}>${shortId(c.action_id)}</a></td>
        <td>${c.agent}</td>
        <td><code>${JSON.stringify(c.original)}</code></td>
        <td><code>${JSON.stringify(c.corrected)}</code></td>
        <td class="small">${c.reasoning}</td>
        <td>${c.applied_at ? when(c.applied_at) : c.apply_error ? html`<${Badge} kind="bad">failed<//>` : "waiting"}</td>
      </tr>`,
    )}</tbody>
  </table></div>`;
}

const pctRate = (v) => (v === null ? "—" : `${(v * 100).toFixed(0)} %`);

/** The reliability chart's numbers, for reading exact values and for screen readers. */
function CalibrationTable({ run, all }) {
  return html`<div class="scroll"><table data-testid="calibration">
    <thead><tr><th>Confidence</th><th class="num">This run: wrong / judged</th><th class="num">All runs: wrong / judged</th></tr></thead>
    <tbody>${all.map(
      (a, i) => html`<tr>
        <td>${a.bucket}</td>
        <td class="num">${pctRate(run[i].wrong_rate)} <span class="muted">(${run[i].wrong} / ${run[i].judged})</span></td>
        <td class="num">${pctRate(a.wrong_rate)} <span class="muted">(${a.wrong} / ${a.judged})</span></td>
      </tr>`,
    )}</tbody>
  </table></div>`;
}
