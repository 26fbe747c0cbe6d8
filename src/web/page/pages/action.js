import { html } from "htm/preact";
import { useState } from "preact/hooks";
import { AuditSection } from "../action-audit.js";
import { ReplayForm } from "../action-replay.js";
import { Badge, JsonView, Loaded, ms, ns, num, useApi, when } from "../ui.js";

export function ActionPage({ id }) {
  const action = useApi(`/v0/actions/${encodeURIComponent(id)}`);
  const trace = useApi(`/v0/actions/${encodeURIComponent(id)}/trace`);
  const [tab, setTab] = useState("conversation");
  return html`<p><a href="/ui/actions">← Actions</a></p>
    <${Loaded} state=${action} what="the action">
      ${(a) => html`
        <h1>${a.agent} · ${a.model ?? a.action_type}</h1>
        <p class="muted">${a.id} · ${when(a.started_at)} · trace ${a.trace_id}</p>
        <div class="stats">
          <${Stat2} label="status" value=${a.status === "error" ? html`<${Badge} kind="bad">error<//>` : html`<${Badge} kind="good">ok<//>`} />
          <${Stat2} label="latency" value=${ms(a.latency_ms)} />
          <${Stat2} label="tokens in / out" value=${`${num(a.tokens_in)} / ${num(a.tokens_out)}`} />
          <${Stat2} label="load" value=${ns(a.load_duration)} />
          <${Stat2} label="prompt eval" value=${ns(a.prompt_eval_duration)} />
          <${Stat2} label="eval" value=${ns(a.eval_duration)} />
          <${Stat2} label="total" value=${ns(a.total_duration)} />
          <${Stat2} label="confidence" value=${a.confidence === null ? "—" : a.confidence.toFixed(2)} />
          <${Stat2} label="audit" value=${a.audit_status ?? "not yet"} />
        </div>
        ${a.flags.length ? html`<p>Flags: ${a.flags.map((f) => html`<${Badge} kind="warn">${f}<//> `)}</p>` : null}
        ${a.error ? html`<p class="error">${a.error}</p>` : null}
        <div role="tablist" class="tabs" aria-label="How to show the call">
          ${["conversation", "raw"].map(
            (
              t,
            ) => html`<button type="button" role="tab" aria-selected=${tab === t} onClick=${() => setTab(t)}>
              ${t === "conversation" ? "Conversation" : "Raw JSON"}
            </button>`,
          )}
        </div>
        <div role="tabpanel">
          ${tab === "conversation" ? html`<${Conversation} action=${a} />` : html`<h3>Request</h3><${JsonView} value=${a.request} /><h3>Reply</h3><${JsonView} value=${a.response} />`}
        </div>
        ${a.reasoning ? html`<h2>Reasoning</h2><pre class="wrap">${a.reasoning}</pre>` : null}
        ${a.review_items?.length ? html`<h2>Review items</h2><ul>${a.review_items.map((r) => html`<li><a href=${`/ui/review?item=${r.id}`}>#${r.id}</a> ${r.title} <${Badge}>${r.status}<//></li>`)}</ul>` : null}
        <${AuditSection} action=${a} />
        <${ReplayForm} id=${a.id} onDone=${() => trace.reload()} />`}
    <//>
    <section aria-labelledby="trace-h">
      <h2 id="trace-h">Trace</h2>
      <${Loaded} state=${trace} what="the trace">
        ${(t) => html`<ul class="tree" data-testid="trace">${t.roots.map((n) => html`<${TraceNode} node=${n} current=${id} />`)}</ul>`}
      <//>
    </section>`;
}

function Stat2({ label, value }) {
  return html`<div class="stat small"><div class="stat-value">${value}</div><div class="stat-label">${label}</div></div>`;
}

function TraceNode({ node, current }) {
  const a = node.action;
  const meta = a.meta ?? {};
  const isCurrent = a.id === current || a.id.startsWith(current);
  return html`<li>
    <div class=${`node${isCurrent ? " current" : ""}`}>
      <a href=${`/ui/actions/${a.id}`} aria-current=${isCurrent ? "true" : undefined}>${a.action_type}</a>
      <span> ${a.agent}${a.model ? ` · ${a.model}` : ""}</span>
      ${a.status === "error" ? html` <${Badge} kind="bad">error<//>` : null}
      ${meta.kept === true ? html` <${Badge} kind="good">kept<//>` : null}
      ${meta.attempt !== undefined ? html` <span class="muted">attempt ${meta.attempt}</span>` : null}
      ${a.confidence !== null ? html` <span class="muted">confidence ${a.confidence.toFixed(2)}</span>` : null}
      <span class="muted"> ${ms(a.latency_ms)}</span>
      ${a.flags.map((f) => html` <${Badge} kind="warn">${f}<//>`)}
      ${Object.keys(meta).length ? html`<details><summary>details</summary><${JsonView} value=${meta} /></details>` : null}
    </div>
    ${node.children.length ? html`<ul>${node.children.map((c) => html`<${TraceNode} node=${c} current=${current} />`)}</ul>` : null}
  </li>`;
}

/** The request's messages and the reply, as chat bubbles; Ollama and OpenAI shapes both. */
function Conversation({ action }) {
  const messages = messagesOf(action.request);
  const reply = replyOf(action.response);
  if (messages.length === 0 && reply === null) {
    return html`<p class="muted">No conversation to show; see the raw JSON.</p>`;
  }
  return html`<ol class="conversation">
    ${messages.map((m) => html`<li class=${`msg msg-${m.role}`}><div class="role">${m.role}</div><div class="content">${m.content}</div></li>`)}
    ${reply !== null ? html`<li class="msg msg-assistant reply"><div class="role">reply</div><div class="content">${reply}</div></li>` : null}
  </ol>`;
}

function text(content) {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) return content.map((p) => p.text ?? "").join("");
  return content === undefined || content === null ? "" : JSON.stringify(content);
}

function messagesOf(request) {
  if (!request || typeof request !== "object") return [];
  const out = [];
  if (typeof request.system === "string") out.push({ role: "system", content: request.system });
  if (Array.isArray(request.messages)) {
    for (const m of request.messages)
      out.push({ role: m.role ?? "user", content: text(m.content) });
  } else if (typeof request.prompt === "string")
    out.push({ role: "user", content: request.prompt });
  else if (request.input !== undefined) out.push({ role: "user", content: text(request.input) });
  return out;
}

function replyOf(response) {
  if (!response || typeof response !== "object")
    return typeof response === "string" ? response : null;
  if (response.message) return text(response.message.content);
  if (typeof response.response === "string") return response.response;
  const choice = response.choices?.[0];
  if (choice) return text(choice.message?.content ?? choice.text);
  return null;
}
