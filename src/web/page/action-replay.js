import { html } from "htm/preact";
import { useState } from "preact/hooks";
import { postJson } from "./api.js";
import { Badge, ErrorBox, JsonView, ms, num } from "./ui.js";

/**
 * Replay an action with another model or model role (POST /v0/actions/:id/replay) and show how
 * the new reply differs. The replay is itself logged, under the original's trace.
 */
export function ReplayForm({ id, onDone }) {
  const [by, setBy] = useState("model");
  const [value, setValue] = useState("");
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState(null);
  const [error, setError] = useState(null);
  async function submit(event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      setResult(
        await postJson(`/v0/actions/${encodeURIComponent(id)}/replay`, { [by]: value.trim() }),
      );
      onDone?.();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }
  return html`<section aria-labelledby="replay-h">
    <h2 id="replay-h">Replay</h2>
    <form class="inline wrap-row" onSubmit=${submit}>
      <label><span>Replay with</span>
        <select value=${by} onChange=${(e) => setBy(e.currentTarget.value)}>
          <option value="model">model</option><option value="role">role</option>
        </select></label>
      <label><span>${by === "model" ? "Model" : "Role"}</span>
        <input value=${value} onInput=${(e) => setValue(e.currentTarget.value)} required
          placeholder=${by === "model" ? "llama3.1:8b" : "reviewer"} /></label>
      <button type="submit" disabled=${busy}>${busy ? "Replaying…" : "Replay"}</button>
    </form>
    <${ErrorBox} error=${error} />
    ${result ? html`<${ReplayResult} r=${result} />` : null}
  </section>`;
}

function ReplayResult({ r }) {
  const side = (label, s) =>
    html`<div class="stat small"><div class="stat-value">${s.model ?? s.role ?? "?"}</div>
      <div class="stat-label">${label}${s.tokens_out !== undefined ? ` · ${num(s.tokens_in)} / ${num(s.tokens_out)} tokens · ${ms(s.latency_ms)}` : ""}</div></div>`;
  return html`<div data-testid="replay-result">
    <p>Logged as its own call: <a href=${`/ui/actions/${r.replay_id}`}>the replay</a> <span class="muted small">${r.replay_id}</span></p>
    <div class="stats">${side("before", r.before)}${side("after", r.after)}</div>
    ${r.after.error ? html`<p class="error">The replay failed: ${r.after.error}</p>` : null}
    ${r.kind === "gateway_call" ? html`<${LineDiff} r=${r} />` : html`<${OutputDiff} r=${r} />`}
  </div>`;
}

function LineDiff({ r }) {
  if (r.after.error) return null;
  if (r.identical) return html`<p><${Badge} kind="good">identical reply<//></p>`;
  const kind = (line) => (line.startsWith("+ ") ? "add" : line.startsWith("- ") ? "del" : "same");
  return html`<pre class="diff" data-testid="replay-diff">${r.diff.map(
    (line) => html`<span class=${`d-line d-${kind(line)}`}>${line}</span>`,
  )}</pre>`;
}

/** A runtime stage's replay: its output compared leaf by leaf. */
function OutputDiff({ r }) {
  if (r.after.error) return null;
  if (r.differences.length === 0) return html`<p><${Badge} kind="good">same output<//></p>`;
  return html`<div data-testid="replay-diff"><${JsonView} value=${r.differences} /></div>`;
}
