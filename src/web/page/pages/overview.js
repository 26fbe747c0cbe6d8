import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import { Badge, Loaded, ms, num, pct, Stat, shortId, useApi, when } from "../ui.js";

const LIVE_ROWS = 15;

export function OverviewPage() {
  const state = useApi("/v0/overview");
  const live = useLiveActions();
  const { reload } = state;
  // The day's figures follow the live feed, at most every few seconds.
  useEffect(() => {
    if (live.length === 0) return;
    const timer = setTimeout(reload, 3000);
    return () => clearTimeout(timer);
  }, [live.length > 0 && live[0].id, reload]);
  return html`<h1>Overview</h1>
    <${Loaded} state=${state} what="the overview">
      ${(o) => html`
        <section aria-labelledby="today">
          <h2 id="today">Today <span class="muted">${new Date(o.since).toLocaleDateString([], { dateStyle: "full" })}</span></h2>
          <div class="stats">
            <${Stat} label="calls" value=${num(o.totals.calls)} />
            <${Stat} label="errors" value=${num(o.totals.errors)} />
            <${Stat} label="tokens in" value=${num(o.totals.tokens_in)} />
            <${Stat} label="tokens out" value=${num(o.totals.tokens_out)} />
            <${Stat} label="latency p50" value=${ms(o.latency_ms.p50)} />
            <${Stat} label="p90" value=${ms(o.latency_ms.p90)} />
            <${Stat} label="p99" value=${ms(o.latency_ms.p99)} />
            <${Stat} label="waiting for review" value=${html`<a href="/ui/review">${num(o.review_open)}</a>`} />
          </div>
        </section>
        <div class="grid2">
          <section aria-labelledby="upstreams">
            <h2 id="upstreams">Model servers</h2>
            <${Upstreams} upstreams=${o.upstreams} machine=${o.machine} />
          </section>
          <section aria-labelledby="night">
            <h2 id="night">Last night</h2>
            <${LastAudit} audit=${o.last_audit} />
          </section>
        </div>
        <section aria-labelledby="by">
          <h2 id="by">Calls by agent and model</h2>
          <${ByAgent} rows=${o.by_agent_model} />
        </section>`}
    <//>
    <section aria-labelledby="live">
      <h2 id="live">Live <span class="muted">new calls as they are logged</span></h2>
      ${
        live.length === 0
          ? html`<p class="muted" data-testid="live-empty">Waiting for calls…</p>`
          : html`<ul class="live" data-testid="live">
              ${live.map(
                (a) => html`<li>
                  <a href=${`/ui/actions/${a.id}`}>${when(a.started_at)} · ${a.agent} · ${a.model ?? a.action_type}</a>
                  ${a.status === "error" ? html` <${Badge} kind="bad">error<//>` : null}
                  <span class="muted"> ${ms(a.latency_ms)} ${a.preview ?? ""}</span>
                </li>`,
              )}
            </ul>`
      }
    </section>`;
}

/** New actions from the server-sent events stream, newest first. */
function useLiveActions() {
  const [rows, setRows] = useState([]);
  useEffect(() => {
    const source = new EventSource("/v0/events");
    source.addEventListener("action", (event) => {
      const action = JSON.parse(event.data);
      setRows((current) => [action, ...current].slice(0, LIVE_ROWS));
    });
    return () => source.close();
  }, []);
  return rows;
}

function Upstreams({ upstreams, machine }) {
  return html`<table>
      <thead><tr><th>Server</th><th>State</th><th>Loaded models</th></tr></thead>
      <tbody>
        ${upstreams.map(
          (u) => html`<tr>
            <td>${u.name}${u.gpu !== null ? html` <span class="muted">GPU ${u.gpu}</span>` : null}${u.name !== u.url ? html`<br /><span class="muted small">${u.url}</span>` : null}</td>
            <td>${u.up ? html`<${Badge} kind="good">up<//>` : html`<${Badge} kind="bad" title=${u.error}>down<//>`}</td>
            <td>${u.models.length ? u.models.join(", ") : html`<span class="muted">none</span>`}</td>
          </tr>`,
        )}
      </tbody>
    </table>
    ${
      machine
        ? html`<p class="muted">At ${when(machine.at)}: CPU ${pct(machine.cpu_pct)}, RAM ${pct(machine.ram_pct)}${machine.gpus.map(
            (g) =>
              html`, GPU ${g.index} ${pct(g.util_pct)} (${num(g.mem_used_mb)} / ${num(g.mem_total_mb)} MB)`,
          )}</p>`
        : html`<p class="muted">No monitor samples yet.</p>`
    }`;
}

function LastAudit({ audit }) {
  if (!audit) return html`<p class="muted">No audit has run yet.</p>`;
  const s = audit.summary;
  return html`<p>
      Run <a href=${`/ui/night?run=${audit.run.id}`}>${shortId(audit.run.id)}</a>
      <${Badge} kind=${audit.run.status === "done" ? "good" : "warn"}>${audit.run.status}<//>
      ${audit.run.finished_at ? html` finished ${when(audit.run.finished_at)}` : null}
    </p>
    <ul class="plain">
      <li>${num(s.items)} actions reviewed: ${num(s.verdicts.correct)} correct, ${num(s.verdicts.incorrect)} wrong, ${num(s.verdicts.unsure)} unsure</li>
      <li>${num(s.corrections)} corrections, ${num(s.patterns_written)} knowledge patterns, ${num(s.insights)} insights</li>
      <li>${num(s.review_items_opened)} items sent to review</li>
    </ul>`;
}

function ByAgent({ rows }) {
  if (rows.length === 0) return html`<p class="muted">No calls today yet.</p>`;
  return html`<div class="scroll"><table>
    <thead><tr><th>Agent</th><th>Model</th><th class="num">Calls</th><th class="num">Errors</th><th class="num">Tokens in</th><th class="num">Tokens out</th></tr></thead>
    <tbody>
      ${rows.map(
        (r) => html`<tr>
          <td><a href=${`/ui/actions?agent=${encodeURIComponent(r.agent)}`}>${r.agent}</a></td>
          <td>${r.model ?? html`<span class="muted">—</span>`}</td>
          <td class="num">${num(r.calls)}</td>
          <td class="num">${r.errors ? html`<a href=${`/ui/actions?agent=${encodeURIComponent(r.agent)}&status=error`}>${num(r.errors)}</a>` : "0"}</td>
          <td class="num">${num(r.tokens_in)}</td>
          <td class="num">${num(r.tokens_out)}</td>
        </tr>`,
      )}
    </tbody>
  </table></div>`;
}
