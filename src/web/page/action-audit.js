import { html } from "htm/preact";
import { Badge, JsonView, shortId, when } from "./ui.js";

const VERDICT_KIND = { correct: "good", incorrect: "bad", unsure: "warn" };
const pct = (v) => (v === null || v === undefined ? "—" : `${Math.round(v * 100)} %`);

/** What the night audit found about this action, and the corrections it (or a person) made. */
export function AuditSection({ action }) {
  const audits = action.audit ?? [];
  const corrections = action.corrections ?? [];
  return html`<section aria-labelledby="audit-h" data-testid="audit">
    <h2 id="audit-h">Audit</h2>
    ${
      audits.length === 0
        ? html`<p class="muted">Not reviewed by an audit run${action.audit_status ? ` (${action.audit_status})` : ""}.</p>`
        : audits.map((a) => html`<${Verdict} item=${a} />`)
    }
    ${corrections.length ? html`<h3>Corrections</h3>${corrections.map((c) => html`<${CorrectionView} c=${c} />`)}` : null}
  </section>`;
}

function Verdict({ item }) {
  return html`<div class="verdict">
    <p>
      <${Badge} kind=${VERDICT_KIND[item.verdict] ?? "warn"}>${item.verdict ?? "pending"}<//>
      ${item.outcome ? html` → ${item.outcome}` : null}
      <span class="muted">${` · run `}<a href=${`/ui/night?run=${encodeURIComponent(item.run_id)}`}>${shortId(item.run_id)}</a>${` · reviewer ${item.reviewer_model} · picked as ${item.reason.replaceAll("_", " ")} · agent's confidence ${pct(item.confidence_before)}, reviewer's ${pct(item.confidence)}${item.reviewed_at ? ` · ${when(item.reviewed_at)}` : ""}`}</span>
    </p>
    ${item.reasoning ? html`<pre class="wrap">${item.reasoning}</pre>` : null}
    ${item.review_item_id ? html`<p><a href=${`/ui/review?item=${item.review_item_id}`}>Review item #${item.review_item_id}</a></p>` : null}
  </div>`;
}

function CorrectionView({ c }) {
  const state = c.applied_at
    ? html`<${Badge} kind="good">applied ${when(c.applied_at)}<//>`
    : c.apply_error
      ? html`<${Badge} kind="bad">apply failed<//> <span class="error">${c.apply_error}</span>`
      : html`<${Badge} kind="warn">waiting for ${c.agent}<//>`;
  return html`<div class="correction" data-testid="correction">
    <p>${c.source === "person" ? "By a person" : `By the audit (${c.reviewer_model ?? "?"})`} · ${state}</p>
    <div class="grid2">
      <div><h4>Was</h4><${JsonView} value=${c.original} /></div>
      <div><h4>Now</h4><${JsonView} value=${c.corrected} /></div>
    </div>
    ${c.reasoning ? html`<p class="small">${c.reasoning}</p>` : null}
  </div>`;
}
