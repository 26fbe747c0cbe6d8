import { html } from "htm/preact";
import { useState } from "preact/hooks";
import { postJson } from "../api.js";
import { Badge, ErrorBox, Loaded, useApi, when } from "../ui.js";

/** Each background job: could it run now, what blocks it, its runs; run or pause it. */
export function JobsPage() {
  const state = useApi("/v0/jobs");
  const [error, setError] = useState(null);
  const [note, setNote] = useState(null);
  const act = async (path, body, done) => {
    setError(null);
    setNote(null);
    try {
      await postJson(path, body);
      setNote(done);
      state.reload();
    } catch (e) {
      setError(e);
    }
  };
  return html`<h1>Jobs</h1>
    <${ErrorBox} error=${error} />
    ${note ? html`<p role="status">${note}</p>` : null}
    <${Loaded} state=${state} what="jobs">
      ${(data) => html`
        ${data.jobs.map((job) => html`<${Job} job=${job} act=${act} />`)}
        <h2>Recent decisions</h2>
        <div class="scroll"><table>
          <thead><tr><th>When</th><th>Job</th><th>Decision</th><th>Why</th></tr></thead>
          <tbody>${data.decisions.map(
            (d) =>
              html`<tr><td>${when(new Date(d.at).toISOString())}</td><td>${d.job}</td><td>${d.decision}</td><td class="small">${d.reason}</td></tr>`,
          )}</tbody>
        </table></div>`}
    <//>`;
}

function Job({ job, act }) {
  const name = encodeURIComponent(job.name);
  return html`<section class="job" aria-labelledby=${`job-${job.name}`}>
    <h2 id=${`job-${job.name}`}>${job.name} <span class="muted small">${job.description}</span></h2>
    <p>
      ${
        job.running
          ? html`<${Badge} kind="warn">running<//> since ${when(new Date(job.running.started_at).toISOString())}`
          : job.could_run_now
            ? html`<${Badge} kind="good">could run now<//>`
            : html`<${Badge}>waiting<//>`
      }
      ${job.mode === "degraded" ? html` <${Badge} kind="bad">degraded: due too long<//>` : null}
      ${job.backlog !== null && job.backlog !== undefined ? html` <span class="muted">backlog ${job.backlog}</span>` : null}
    </p>
    ${job.blockers.length ? html`<ul>${job.blockers.map((b) => html`<li>${b.message}</li>`)}</ul>` : null}
    <div class="actions-row">
      ${
        job.running
          ? html`<button type="button" class="secondary" onClick=${() => act(`/v0/jobs/${name}/pause`, {}, `${job.name} will pause at its next checkpoint.`)}>Pause</button>`
          : html`<button type="button" disabled=${!job.could_run_now} onClick=${() => act(`/v0/jobs/${name}/run`, {}, `${job.name} started.`)}>Run now</button>
              <button type="button" class="secondary" onClick=${() => act(`/v0/jobs/${name}/run`, { force: true }, `${job.name} started, its conditions skipped.`)}>Run anyway</button>`
      }
    </div>
    ${
      job.last_runs.length
        ? html`<details><summary>Recent runs</summary><div class="scroll"><table>
            <thead><tr><th>Started</th><th>Status</th><th>Finished</th><th>Summary</th></tr></thead>
            <tbody>${job.last_runs.map(
              (
                r,
              ) => html`<tr><td>${when(new Date(r.started_at).toISOString())}</td><td>${r.status}${r.forced ? " (forced)" : ""}</td>
                <td>${r.finished_at ? when(new Date(r.finished_at).toISOString()) : "—"}</td>
                <td class="small">${r.error ?? (r.summary ? JSON.stringify(r.summary) : "")}</td></tr>`,
            )}</tbody>
          </table></div></details>`
        : html`<p class="muted">No runs yet.</p>`
    }
  </section>`;
}
