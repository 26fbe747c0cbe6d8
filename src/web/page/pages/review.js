import { html } from "htm/preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { postJson, query } from "../api.js";
import { navigate } from "../router.js";
import { Badge, ErrorBox, JsonView, Loaded, useApi, useKeys, when } from "../ui.js";

/**
 * The review queue: one item at a time, original and proposal side by side. Keys: j/k next and
 * previous, a accept, r reject, e edit (Ctrl+Enter saves the edit). A decision is final, as in
 * the CLI, and the queue moves on to the next item.
 */
export function ReviewPage({ location }) {
  const status = location.params.get("status") ?? "open";
  const list = useApi(`/v0/review${query({ status, limit: 200 })}`);
  const items = list.data?.items ?? [];
  const wanted = Number(location.params.get("item"));
  const index = Math.max(
    0,
    items.findIndex((i) => i.id === wanted),
  );
  const item = items[index];
  const select = (i) => {
    const next = items[Math.min(Math.max(i, 0), items.length - 1)];
    if (next)
      navigate(`/ui/review${query({ status: status === "open" ? "" : status, item: next.id })}`, {
        replace: true,
      });
  };
  return html`<h1>Review queue</h1>
    <nav class="tabs" aria-label="Which items">
      ${["open", "accepted", "rejected", "edited", "all"].map(
        (s) =>
          html`<a href=${`/ui/review${query({ status: s === "open" ? "" : s })}`} aria-current=${s === status ? "page" : undefined}>${s}</a>`,
      )}
    </nav>
    <p class="muted small">Keys: <kbd>j</kbd>/<kbd>k</kbd> next/previous · <kbd>a</kbd> accept · <kbd>r</kbd> reject · <kbd>e</kbd> edit · <kbd>Ctrl</kbd>+<kbd>Enter</kbd> save edit</p>
    <${Loaded} state=${list} what="the queue">
      ${() =>
        items.length === 0
          ? html`<p class="muted">Nothing ${status === "open" ? "waits for review" : `is ${status}`}.</p>`
          : html`<div class="review">
              <ol class="queue" aria-label="Items">
                ${items.map(
                  (i, n) => html`<li>
                    <a href=${`/ui/review${query({ status: status === "open" ? "" : status, item: i.id })}`} aria-current=${n === index ? "true" : undefined}>
                      #${i.id} ${i.title}
                    </a>
                  </li>`,
                )}
              </ol>
              <${Item} key=${item.id} item=${item} onDecided=${() => list.reload()} onMove=${(d) => select(index + d)} />
            </div>`}
    <//>`;
}

function Item({ item, onDecided, onMove }) {
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(() => JSON.stringify(item.proposed ?? item.original, null, 2));
  const [reason, setReason] = useState("");
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const editor = useRef(null);
  const parsed = parse(draft);
  const open = item.status === "open";

  const decide = async (decision) => {
    if (!open || busy) return;
    if (decision === "edit" && parsed.error) return;
    setBusy(true);
    setError(null);
    try {
      const body = {
        ...(reason ? { reason } : {}),
        ...(decision === "edit" ? { output: parsed.value } : {}),
      };
      await postJson(`/v0/review/${item.id}/${decision}`, body);
      onDecided();
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };
  useKeys(
    (event) => {
      if (event.key === "j") onMove(1);
      else if (event.key === "k") onMove(-1);
      else if (event.key === "a") decide("accept");
      else if (event.key === "r") decide("reject");
      else if (event.key === "e" && open) {
        event.preventDefault();
        setEditing(true);
      } else return;
    },
    [item.id, busy, open, reason, draft],
  );
  useEffect(() => {
    if (editing) editor.current?.focus();
  }, [editing]);

  return html`<article class="item" aria-labelledby="item-title">
    <h2 id="item-title">#${item.id} ${item.title}</h2>
    <p class="muted">
      ${item.agent} · ${item.kind} · opened by ${item.opened_by} ${when(item.created_at)}
      ${item.action_id ? html` · <a href=${`/ui/actions/${item.action_id}`}>the action</a>` : null}
      · <${Badge} kind=${open ? "warn" : "plain"}>${item.status}<//>
      ${item.confidence !== null ? html` · confidence ${item.confidence.toFixed(2)}` : null}
    </p>
    <div class="side-by-side">
      <section><h3>Original</h3><${JsonView} value=${item.original} /></section>
      <section><h3>Proposal</h3><${JsonView} value=${item.proposed} /></section>
    </div>
    ${item.reasoning ? html`<h3>Reasoning</h3><p class="wrap">${item.reasoning}</p>` : null}
    ${!open ? html`<p>Decided by ${item.decided_by} ${when(item.decided_at)}${item.decision_reason ? `: ${item.decision_reason}` : ""}. ${item.applied_note ?? ""}</p>` : null}
    ${
      open
        ? html`<label class="block"><span>Reason (optional)</span>
              <input value=${reason} onInput=${(e) => setReason(e.currentTarget.value)} /></label>
            ${
              editing
                ? html`<label class="block"><span>Corrected output (JSON)</span>
                    <textarea ref=${editor} value=${draft} class="editor" rows="10" spellcheck="false" aria-invalid=${parsed.error ? "true" : "false"}
                      onInput=${(e) => setDraft(e.currentTarget.value)}
                      onKeyDown=${(e) => {
                        if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) decide("edit");
                        if (e.key === "Escape") setEditing(false);
                      }}></textarea></label>
                  <p class=${parsed.error ? "error" : "muted"} role="status">${parsed.error ?? "Valid JSON"}</p>`
                : null
            }
            <div class="actions-row">
              <button type="button" disabled=${busy} onClick=${() => decide("accept")}><kbd>a</kbd> Accept</button>
              <button type="button" disabled=${busy} class="danger" onClick=${() => decide("reject")}><kbd>r</kbd> Reject</button>
              ${
                editing
                  ? html`<button type="button" disabled=${busy || parsed.error !== null} onClick=${() => decide("edit")}>Save edit</button>`
                  : html`<button type="button" class="secondary" onClick=${() => setEditing(true)}><kbd>e</kbd> Edit</button>`
              }
            </div>`
        : null
    }
    <${ErrorBox} error=${error} />
  </article>`;
}

function parse(text) {
  try {
    return { value: JSON.parse(text), error: null };
  } catch (e) {
    return { value: undefined, error: `Not valid JSON: ${e.message}` };
  }
}
