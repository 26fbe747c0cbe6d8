import type { IncomingHttpHeaders } from "node:http";
import { newTraceId } from "../ledger/ids.js";
import { decodes } from "./request-path.js";

/** Who made a call and where it sits in a pipeline. */
export interface Identity {
  agent: string;
  parentId: string | null;
  traceId: string;
  /** A traceparent parent span that matched no known action (a foreign tracer's span). */
  foreignSpan: string | null;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const AGENT_NAME = /^[\w.@:-]{1,100}$/;

/** An action's span id in W3C trace context: the last 16 hex digits of its UUID. */
export function spanOf(actionId: string): string {
  return actionId.replace(/-/g, "").slice(-16);
}

export function traceparentOf(traceId: string, actionId: string): string {
  return `00-${traceId}-${spanOf(actionId)}-01`;
}

/** `/agents/NAME/rest` → NAME and `/rest`; other paths are returned as they are. */
export function splitAgentPrefix(path: string): { agent: string | null; path: string } {
  if (!path.startsWith("/agents/")) return { agent: null, path };
  const end = path.indexOf("/", 8);
  // parseTarget has already refused paths that do not decode; this stays total regardless.
  const name = decodes(end === -1 ? path.slice(8) : path.slice(8, end));
  return { agent: name || null, path: end === -1 ? "/" : path.slice(end) };
}

interface Known {
  id: string;
  traceId: string;
}

/**
 * The ledger lookups behind lineage: synchronous on SQLite (answered before the request goes on,
 * as it always was), a promise on PostgreSQL.
 */
export interface TraceLookup {
  traceIdOf(id: string): string | undefined | Promise<string | undefined>;
  idsInTrace(traceId: string): string[] | Promise<string[]>;
}

/**
 * Resolves parents to traces. Gateway actions are written in batches when they end, and a child
 * call usually starts before its parent reaches the ledger (a pipeline calls stage 2 the moment
 * stage 1's reply arrives), so the calls of the last while are remembered here; older parents are
 * looked up in the ledger. A lookup that fails (the database unreachable) counts as not found: the
 * call goes on and keeps the parent it named.
 */
export class TraceIndex {
  private readonly byId = new Map<string, Known>();
  private readonly bySpan = new Map<string, Known>();

  constructor(
    private readonly actions: TraceLookup,
    private readonly capacity = 50_000,
  ) {}

  remember(id: string, traceId: string): void {
    const known = { id, traceId };
    this.byId.set(id, known);
    this.bySpan.set(spanOf(id), known);
    if (this.byId.size > this.capacity) {
      const oldest = this.byId.keys().next().value as string;
      this.byId.delete(oldest);
      this.bySpan.delete(spanOf(oldest));
    }
  }

  identify(headers: IncomingHttpHeaders, prefixAgent: string | null): Identity | Promise<Identity> {
    const agent = agentOf(headers, prefixAgent);
    const parentHeader = single(headers["x-nightshift-parent"])?.trim().toLowerCase();
    const traceparent = TRACEPARENT.exec(single(headers.traceparent)?.trim().toLowerCase() ?? "");
    const w3cTrace = traceparent && !/^0+$/.test(traceparent[2]!) ? traceparent[2]! : null;
    if (parentHeader) {
      const withParentTrace = (parentTrace: string | undefined): Identity => ({
        agent,
        parentId: parentHeader,
        traceId: parentTrace ?? w3cTrace ?? newTraceId(),
        foreignSpan: null,
      });
      const known = this.byId.get(parentHeader)?.traceId;
      if (known !== undefined) return withParentTrace(known);
      return settle(this.actions.traceIdOf(parentHeader), undefined, withParentTrace);
    }
    if (traceparent && w3cTrace) {
      const span = traceparent[3]!;
      const withParent = (parent: Known | undefined): Identity => ({
        agent,
        parentId: parent?.id ?? null,
        traceId: w3cTrace,
        foreignSpan: parent ? null : span,
      });
      const known = this.bySpan.get(span);
      if (known) return withParent(known);
      return settle(this.actions.idsInTrace(w3cTrace), [], (ids) => {
        const id = ids.find((candidate) => spanOf(candidate) === span);
        return withParent(id === undefined ? undefined : { id, traceId: w3cTrace });
      });
    }
    return { agent, parentId: null, traceId: newTraceId(), foreignSpan: null };
  }
}

/** Applies `then` at once to a plain value, or when a promise settles (`fallback` if it fails). */
function settle<T, R>(value: T | Promise<T>, fallback: T, then: (value: T) => R): R | Promise<R> {
  if (!(value instanceof Promise)) return then(value);
  return value.then(then, () => then(fallback));
}

function agentOf(headers: IncomingHttpHeaders, prefixAgent: string | null): string {
  const header = single(headers["x-nightshift-agent"])?.trim();
  const name = header || prefixAgent;
  return name && AGENT_NAME.test(name) ? name : "unknown";
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
