import { NightshiftError } from "../../errors.js";
import type { Action, ActionFilter, NewAction } from "../actions.js";

/**
 * The ledger as capabilities see it, whatever the engine: SQLite (ledger/sqlite/, the embedded
 * default) or PostgreSQL (ledger/postgres/, several daemons sharing one ledger). Reads are
 * async so a network engine fits behind them. The gateway's appender stays synchronous on the
 * request path: `write` only queues, and the engine commits batches in the background.
 *
 * The action log's part of the seam: the gateway, the agent runtime (its batched writes and
 * history reads), `nightshift actions`, `trace`, `replay` and /v0/actions.
 */
export type LedgerEngine = "sqlite" | "postgres";

export interface ActionQuery extends Omit<ActionFilter, "after"> {
  /** A page's `next` cursor: continue after the last action of that page, in the same order. */
  after?: string | undefined;
}

export interface ActionPage {
  actions: Action[];
  /** Pass as `after` for the next page; null when this page was the last. */
  next: string | null;
}

/** Reading the action log and writing to it directly (not through the batching appender). */
export interface ActionReads {
  get(id: string): Promise<Action | undefined>;
  /** By full id or a unique prefix of 8+ characters; several matches are an error naming them. */
  find(idOrPrefix: string): Promise<Action | undefined>;
  list(query?: ActionQuery): Promise<Action[]>;
  page(query?: ActionQuery): Promise<ActionPage>;
  count(filter?: Pick<ActionFilter, "since" | "agent">): Promise<number>;
  trace(traceId: string): Promise<Action[]>;
  children(parentId: string): Promise<Action[]>;
  /**
   * Earlier actions of one agent on the same input (the runtime's input_key), newest first: what
   * a stage reads before it runs ("last time this input failed check X").
   */
  byInputKey(agent: string, inputKey: string, limit?: number): Promise<Action[]>;
  /** The trace an action belongs to, without reading the action. */
  traceIdOf(id: string): Promise<string | undefined>;
  /** The ids of a trace's actions, without reading them. */
  idsInTrace(traceId: string): Promise<string[]>;
  addFlags(id: string, flags: string[]): Promise<void>;
  removeFlags(id: string, flags: string[]): Promise<void>;
  /** Writes in one transaction and returns the actions completed with ids. */
  insert(actions: NewAction[]): Promise<Action[]>;
}

/**
 * The gateway's writer: `write` queues and returns the completed action (its id) at once; the
 * engine commits in batches. Nothing queued is dropped: a failed commit is retried, and `close`
 * commits what is left.
 */
export interface ActionAppender {
  readonly pending: number;
  write(action: NewAction): Action;
  /** Commits everything queued; resolves with how many were committed. */
  flush(): Promise<number>;
  close(): Promise<void>;
}

/** The action log of one engine, opened. */
export interface ActionLedger {
  readonly engine: LedgerEngine;
  /** Where it lives: a file path, or a URL with its password masked. */
  readonly location: string;
  readonly actions: ActionReads;
  readonly writer: ActionAppender;
  close(): Promise<void>;
}

/** A page cursor: the (started_at, id) of the last action given, as an opaque string. */
export function encodeCursor(action: Pick<Action, "startedAt" | "id">): string {
  return Buffer.from(JSON.stringify([action.startedAt, action.id])).toString("base64url");
}

export function decodeCursor(cursor: string): { startedAt: number; id: string } {
  try {
    const [startedAt, id] = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (typeof startedAt === "number" && typeof id === "string") return { startedAt, id };
  } catch {
    // Reported below with the cursor itself.
  }
  throw new CursorError(cursor);
}

export class CursorError extends NightshiftError {
  override readonly name = "CursorError";
  constructor(cursor: string) {
    super(`invalid cursor ${JSON.stringify(cursor.slice(0, 80))}: pass the "next" of a page as is`);
  }
}
