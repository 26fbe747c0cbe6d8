import type { IncomingMessage, ServerResponse } from "node:http";
import type { Clock } from "../clock.js";
import type { Config } from "../config.js";
import type { KnowledgeBase } from "../knowledge/kb.js";
import type { Ledger } from "../ledger/ledger.js";
import type { ActionReads, LedgerStores } from "../ledger/stores/index.js";
import type { CorrectionHandlers } from "../review/handlers.js";
import type { ReviewQueue } from "../review/queue.js";
import type { Scheduler } from "../scheduler/scheduler.js";
import type { Telemetry } from "../telemetry/telemetry.js";

// The types the API's handler and its route files share: here, so that routes-*.ts need not
// import handler.ts, which imports them.

export interface ApiDeps {
  ledger: Ledger;
  /** The action log when it is not the SQLite ledger's (PostgreSQL, see ledger/stores.ts). */
  actionReads?: ActionReads;
  /** The ledger of the selected engine; a SQLite one over `ledger` by default. */
  stores?: LedgerStores;
  kb: KnowledgeBase;
  /** Defaults to a queue over `ledger` with `handlers`, so API decisions are applied. */
  review?: ReviewQueue;
  handlers?: CorrectionHandlers;
  config: Config;
  /** The daemon's scheduler, once started (GET /v0/jobs, run, pause); absent in the CLI. */
  scheduler?: () => Scheduler | undefined;
  /** "Now" for the dashboard's day boundaries; the system clock by default. */
  clock?: Clock;
  /** Where unexpected errors (bugs) are written; stderr by default. */
  log?: (line: string) => void;
  /** Serves /metrics when set (see src/telemetry). */
  telemetry?: Telemetry;
}

/** Handles a request; resolves false when the path is not under /v0 (for another handler). */
export type ApiRequestHandler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

export interface Request {
  method: string;
  /** Path segments after /v0, percent-decoded one by one (so a key may hold "/"). */
  segments: string[];
  query: URLSearchParams;
  req: IncomingMessage;
}

export type Deps = ApiDeps & { review: ReviewQueue; stores: LedgerStores };
export type Handler = (request: Request, deps: Deps) => unknown | Promise<unknown>;

export interface Route {
  method: "GET" | "POST";
  /** Literal segments, or ":name" for a parameter. */
  pattern: string[];
  handler: Handler;
}
