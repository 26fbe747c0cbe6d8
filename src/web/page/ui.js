import { html } from "htm/preact";
import { useCallback, useEffect, useState } from "preact/hooks";
import { getJson } from "./api.js";

/** Loads `path` (re-loads when it changes); returns { data, error, reload }. */
export function useApi(path) {
  const [state, setState] = useState({ data: null, error: null, path: null });
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  useEffect(() => {
    if (!path) return;
    let live = true;
    getJson(path).then(
      (data) => live && setState({ data, error: null, path }),
      (error) => live && setState({ data: null, error, path }),
    );
    return () => {
      live = false;
    };
  }, [path, tick]);
  return { ...state, loading: state.path !== path, reload };
}

export function Loading({ what = "" }) {
  return html`<p class="muted" role="status">Loading${what ? ` ${what}` : ""}…</p>`;
}

export function ErrorBox({ error }) {
  if (!error) return null;
  return html`<p class="error" role="alert">${error.message ?? String(error)}</p>`;
}

/** Shows children once `state` has data; a loading line or the error otherwise. */
export function Loaded({ state, what, children }) {
  if (state.error) return html`<${ErrorBox} error=${state.error} />`;
  if (!state.data) return html`<${Loading} what=${what} />`;
  return children(state.data);
}

export function Stat({ label, value, hint }) {
  return html`<div class="stat">
    <div class="stat-value">${value ?? "—"}</div>
    <div class="stat-label">${label}</div>
    ${hint ? html`<div class="stat-hint muted">${hint}</div>` : null}
  </div>`;
}

export function Badge({ kind, children }) {
  return html`<span class=${`badge badge-${kind ?? "plain"}`}>${children}</span>`;
}

export function JsonView({ value }) {
  return html`<pre class="json">${JSON.stringify(value, null, 2)}</pre>`;
}

export const num = (n) => (n === null || n === undefined ? "—" : Number(n).toLocaleString());

export function ms(n) {
  if (n === null || n === undefined) return "—";
  if (n < 1000) return `${Math.round(n)} ms`;
  return `${(n / 1000).toFixed(n < 10_000 ? 2 : 1)} s`;
}

/** Ollama's durations are nanoseconds. */
export const ns = (n) => (n === null || n === undefined ? "—" : ms(n / 1e6));

export const pct = (n) => (n === null || n === undefined ? "—" : `${Number(n).toFixed(0)} %`);

export function when(iso) {
  if (!iso) return "—";
  const date = new Date(iso);
  const today = new Date().toDateString() === date.toDateString();
  return today
    ? date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" })
    : date.toLocaleString([], { dateStyle: "short", timeStyle: "short" });
}

export function shortId(id) {
  return id ? id.slice(-10) : "";
}

/** Calls `handler(event)` for keys pressed outside text fields. */
export function useKeys(handler, deps) {
  useEffect(() => {
    const onKey = (event) => {
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      const tag = event.target?.tagName;
      if (
        tag === "INPUT" ||
        tag === "TEXTAREA" ||
        tag === "SELECT" ||
        event.target?.isContentEditable
      ) {
        return;
      }
      handler(event);
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, deps);
}
