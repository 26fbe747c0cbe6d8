import { html } from "htm/preact";
import { useState } from "preact/hooks";
import { postJson, query } from "../api.js";
import { diffLines } from "../diff.js";
import { navigate } from "../router.js";
import { Badge, ErrorBox, Loaded, useApi, when } from "../ui.js";

/** Search the knowledge base; open an entry to see its versions, diff them and roll back. */
export function KnowledgePage({ location }) {
  const q = location.params.get("q") ?? "";
  const scope = location.params.get("scope");
  const key = location.params.get("key");
  const list = useApi(`/v0/kb${query({ q, limit: q ? 50 : 200 })}`);
  const [text, setText] = useState(q);
  return html`<h1>Knowledge base</h1>
    <form class="filters" role="search" onSubmit=${(e) => {
      e.preventDefault();
      navigate(`/ui/kb${query({ q: text })}`);
    }}>
      <label><span>Search</span><input type="search" value=${text} onInput=${(e) => setText(e.currentTarget.value)} /></label>
      <div class="actions-row"><button type="submit">Search</button></div>
    </form>
    <div class="grid2">
      <section aria-labelledby="entries-h">
        <h2 id="entries-h">${q ? `Matches for “${q}”` : "Entries"}</h2>
        <${Loaded} state=${list} what="entries">
          ${(data) => {
            const rows = data.hits ?? data.entries ?? [];
            if (rows.length === 0) return html`<p class="muted">No entries.</p>`;
            return html`<ul class="entries">${rows.map(
              (e) => html`<li>
                <a href=${`/ui/kb${query({ q, scope: e.scope, key: e.key })}`} aria-current=${e.scope === scope && e.key === key ? "true" : undefined}>
                  <strong>${e.key}</strong> <span class="muted">${e.scope} · v${e.version}</span>
                </a>
                <div class="small muted clamp">${e.content}</div>
              </li>`,
            )}</ul>`;
          }}
        <//>
        <${RevertRun} />
      </section>
      ${scope && key ? html`<${History} key=${`${scope}/${key}`} scope=${scope} entryKey=${key} />` : html`<p class="muted">Open an entry to see its versions.</p>`}
    </div>`;
}

function History({ scope, entryKey }) {
  const path = `/v0/kb/${encodeURIComponent(scope)}/${encodeURIComponent(entryKey)}/history`;
  const state = useApi(path);
  const [selected, setSelected] = useState(null);
  const [error, setError] = useState(null);
  const rollback = async (version) => {
    setError(null);
    try {
      await postJson(
        `/v0/kb/${encodeURIComponent(scope)}/${encodeURIComponent(entryKey)}/rollback`,
        { version },
      );
      setSelected(null);
      state.reload();
    } catch (e) {
      setError(e);
    }
  };
  return html`<section aria-labelledby="history-h">
    <h2 id="history-h">${scope}/${entryKey}</h2>
    <${ErrorBox} error=${error} />
    <${Loaded} state=${state} what="versions">
      ${({ versions }) => {
        const latest = versions.at(-1);
        const shown = versions.find((v) => v.version === selected) ?? latest;
        const previous = versions.find((v) => v.version === shown.version - 1);
        return html`<ol class="versions" reversed>
            ${[...versions].reverse().map(
              (v) => html`<li>
                <button type="button" class="link" aria-pressed=${v === shown} onClick=${() => setSelected(v.version)}>
                  v${v.version}
                </button>
                <span> ${v.provenance.kind}: ${v.provenance.ref} · ${when(v.provenance.at)}</span>
                ${v.deleted ? html` <${Badge} kind="bad">deleted<//>` : null}
                ${v.note ? html` <span class="muted">(${v.note})</span>` : null}
                ${v === latest ? html` <${Badge} kind="good">current<//>` : html` <button type="button" class="small" onClick=${() => rollback(v.version)}>Roll back to v${v.version}</button>`}
              </li>`,
            )}
          </ol>
          <h3>v${shown.version}${previous ? ` compared with v${previous.version}` : ""}</h3>
          <pre class="diff" data-testid="diff">${diffLines(
            previous?.content ?? "",
            shown.content,
          ).map(
            (d) =>
              html`<span class=${`d-line d-${d.kind}`}>${d.kind === "add" ? "+ " : d.kind === "del" ? "- " : "  "}${d.line}</span>`,
          )}</pre>`;
      }}
    <//>
  </section>`;
}

function RevertRun() {
  const [run, setRun] = useState("");
  const [result, setResult] = useState(null);
  const [error, setError] = useState(null);
  return html`<form class="filters" onSubmit=${async (e) => {
    e.preventDefault();
    setError(null);
    setResult(null);
    try {
      setResult(
        await postJson(`/v0/audit/runs/${encodeURIComponent(run.trim())}/revert-knowledge`, {}),
      );
    } catch (err) {
      setError(err);
    }
  }}>
    <label><span>Revert everything an audit run wrote (run id)</span><input value=${run} onInput=${(e) => setRun(e.currentTarget.value)} required /></label>
    <div class="actions-row"><button type="submit" class="danger">Revert run</button></div>
    <${ErrorBox} error=${error} />
    ${result ? html`<p role="status">Reverted ${result.reverted.length} entries; left ${result.skipped.length} changed since.</p>` : null}
  </form>`;
}
