import type { NewAction } from "../ledger/actions.js";
import type { Identity, TraceLookup } from "./identity.js";
import type { ApiFlavor } from "./replies.js";
import type { SelfReport } from "./self-report.js";
import type { Assembled } from "./stream.js";
import type { Upstream } from "./upstreams.js";

/**
 * What the gateway needs of the ledger: a writer that queues without waiting, and the lineage
 * lookups (synchronous on SQLite, so its request path stays as it was; async on PostgreSQL).
 */
export interface GatewayLedger {
  writer: { write(action: NewAction): unknown };
  actions: TraceLookup;
}

/** One request through the gateway, from its first byte to the action it leaves in the ledger. */
export interface Call {
  id: string;
  identity: Identity;
  flavor: ApiFlavor;
  actionType: string;
  method: string;
  /** The path and query as the upstream sees it (agent prefix removed). */
  path: string;
  model: string | null;
  /** The parsed request body, as the ledger keeps it. */
  request: unknown;
  startedAt: number;
  /** performance.now() at the first byte, for a latency finer than a millisecond. */
  t0: number;
  upstream: Upstream | null;
  /** Whether the call is logged; health probes (GET /, /api/version) are not. */
  logged: boolean;
  meta: Record<string, unknown>;
  ended: boolean;
  /** Confidence, flags and input key the client sent in X-Nightshift-* headers. */
  report?: SelfReport;
}

export interface Ending {
  httpStatus: number;
  error: string | null;
  assembled?: Assembled;
  response?: unknown;
  upstreamLabel?: string;
}

/** Writes the call's action once; later endings (a close after an error) are ignored. */
export function endCall(ledger: GatewayLedger, call: Call, ending: Ending): void {
  if (call.ended) return;
  call.ended = true;
  if (!call.logged) return;
  const assembled = ending.assembled;
  const error = ending.error ?? assembled?.error ?? null;
  const failed = error !== null || ending.httpStatus >= 400;
  ledger.writer.write({
    id: call.id,
    traceId: call.identity.traceId,
    parentId: call.identity.parentId,
    agent: call.identity.agent,
    actionType: call.actionType,
    model: call.model,
    upstream: ending.upstreamLabel ?? call.upstream?.url ?? null,
    gpu: call.upstream?.gpu ?? null,
    startedAt: call.startedAt,
    endedAt: Date.now(),
    latencyMs: Math.round((performance.now() - call.t0) * 1000) / 1000,
    status: failed ? "error" : "ok",
    error: failed ? (error ?? `HTTP ${ending.httpStatus}`) : null,
    request: call.request,
    response: ending.response ?? assembled?.response ?? null,
    tokensIn: assembled?.tokensIn ?? null,
    tokensOut: assembled?.tokensOut ?? null,
    loadDuration: assembled?.loadDuration ?? null,
    promptEvalDuration: assembled?.promptEvalDuration ?? null,
    evalDuration: assembled?.evalDuration ?? null,
    totalDuration: assembled?.totalDuration ?? null,
    confidence: call.report?.confidence ?? null,
    flags: call.report?.flags ?? [],
    inputKey: call.report?.inputKey ?? null,
    meta: {
      ...call.meta,
      api: call.flavor,
      path: call.path,
      http_status: ending.httpStatus,
      ...(call.identity.foreignSpan ? { parent_span: call.identity.foreignSpan } : {}),
    },
  });
}
