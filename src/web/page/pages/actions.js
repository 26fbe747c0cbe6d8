import { html } from "htm/preact";
import { useState } from "preact/hooks";
import { query } from "../api.js";
import { navigate } from "../router.js";
import { Badge, Loaded, ms, num, useApi, when } from "../ui.js";

const PAGE_SIZE = 50;
const FILTERS = ["agent", "model", "flag", "status", "audit_status", "since", "until", "q"];

/** The action log: filters live in the URL (shareable, back button works), pages by cursor. */
export function ActionsPage({ location }) {
  const filters = Object.fromEntries(FILTERS.map((f) => [f, location.params.get(f) ?? ""]));
  const cursor = location.params.get("cursor") ?? "";
  const path = `/v0/actions${query({ ...filters, cursor, limit: PAGE_SIZE, view: "summary" })}`;
  const state = useApi(path);
  const [history, setHistory] = useState([]);
  const go = (next) => navigate(`/ui/actions${query(next)}`);
  const apply = (form) => {
    setHistory([]);
    go(form);
  };
  return html`<h1>Actions</h1>
    <${FilterForm} key=${location.href} filters=${filters} onApply=${apply} />
    <${Loaded} state=${state} what="actions">
      ${(data) => html`
        ${
          data.actions.length === 0
            ? html`<p class="muted">No actions match.</p>`
            : html`<div class="scroll"><table class="actions" data-testid="actions-table">
                <thead><tr>
                  <th>Time</th><th>Agent</th><th>Model / type</th><th class="num">Latency</th>
                  <th class="num">Tokens</th><th>Status</th><th>Request</th>
                </tr></thead>
                <tbody>${data.actions.map((a) => html`<${Row} a=${a} />`)}</tbody>
              </table></div>`
        }
        <nav class="pager" aria-label="Pages of actions">
          <button type="button" disabled=${history.length === 0} onClick=${() => {
            const previous = history.at(-1);
            setHistory(history.slice(0, -1));
            go({ ...filters, cursor: previous });
          }}>Newer</button>
          <button type="button" disabled=${!data.next_cursor} onClick=${() => {
            setHistory([...history, cursor]);
            go({ ...filters, cursor: data.next_cursor });
          }}>Older</button>
        </nav>`}
    <//>`;
}

function Row({ a }) {
  return html`<tr>
    <td><a href=${`/ui/actions/${a.id}`}>${when(a.started_at)}</a></td>
    <td>${a.agent}</td>
    <td>${a.model ?? html`<span class="muted">${a.action_type}</span>`}</td>
    <td class="num">${ms(a.latency_ms)}</td>
    <td class="num">${a.tokens_in === null ? "—" : `${num(a.tokens_in)} / ${num(a.tokens_out)}`}</td>
    <td>
      ${a.status === "error" ? html`<${Badge} kind="bad">error<//>` : html`<${Badge} kind="good">ok<//>`}
      ${a.flags.map((f) => html` <${Badge} kind="warn">${f}<//>`)}
      ${a.audit_status ? html` <${Badge}>${a.audit_status}<//>` : null}
    </td>
    <td class="preview">${a.preview ?? ""}</td>
  </tr>`;
}

function FilterForm({ filters, onApply }) {
  const [form, setForm] = useState(filters);
  const field = (name, label, props = {}) => html`<label>
      <span>${label}</span>
      <input name=${name} value=${form[name]} onInput=${(e) => setForm({ ...form, [name]: e.currentTarget.value })} ...${props} />
    </label>`;
  const choice = (name, label, options) => html`<label>
      <span>${label}</span>
      <select name=${name} value=${form[name]} onChange=${(e) => setForm({ ...form, [name]: e.currentTarget.value })}>
        <option value="">any</option>
        ${options.map((o) => html`<option value=${o}>${o}</option>`)}
      </select>
    </label>`;
  return html`<form class="filters" role="search" onSubmit=${(e) => {
    e.preventDefault();
    onApply(form);
  }}>
    ${field("q", "Text", { type: "search", placeholder: "in requests and replies" })}
    ${field("agent", "Agent")}
    ${field("model", "Model")}
    ${field("flag", "Flag", { placeholder: "low_confidence" })}
    ${choice("status", "Status", ["ok", "error"])}
    ${choice("audit_status", "Audit", ["none", "verified", "corrected", "in_review", "ruled", "passed"])}
    ${field("since", "Since", { placeholder: "24h or 2026-01-31" })}
    ${field("until", "Until", { placeholder: "ISO date" })}
    <div class="actions-row">
      <button type="submit">Filter</button>
      <button type="button" class="secondary" onClick=${() => onApply({})}>Clear</button>
    </div>
  </form>`;
}
