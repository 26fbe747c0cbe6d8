import type { Statement } from "better-sqlite3";
import { NightshiftError } from "../errors.js";
import type { BodyStore } from "./body-store.js";
import type { Db } from "./db.js";
import { newActionId, newTraceId } from "./ids.js";
import { storableJson } from "./storable.js";

export type ActionStatus = "ok" | "error";
/**
 * verified: reviewed and found right; corrected: reviewed and fixed; in_review: waiting on a person;
 * ruled: a person decided; passed: inside an audit run's window but neither flagged nor sampled.
 */
export type AuditStatus = "verified" | "corrected" | "in_review" | "ruled" | "passed";
export type Tier = "detailed" | "compressed";

/** One logged step. camelCase here; snake_case in the database and in JSON (see actionToJson). */
export interface Action {
  id: string;
  traceId: string;
  parentId: string | null;
  agent: string;
  actionType: string;
  model: string | null;
  upstream: string | null;
  gpu: number | null;
  startedAt: number;
  endedAt: number | null;
  latencyMs: number | null;
  status: ActionStatus;
  error: string | null;
  request: unknown;
  response: unknown;
  reasoning: string | null;
  confidence: number | null;
  flags: string[];
  tokensIn: number | null;
  tokensOut: number | null;
  loadDuration: number | null;
  promptEvalDuration: number | null;
  evalDuration: number | null;
  totalDuration: number | null;
  inputKey: string | null;
  meta: Record<string, unknown> | null;
  auditStatus: AuditStatus | null;
  tier: Tier;
}

type Required_ = "agent" | "actionType" | "startedAt" | "status";
export type NewAction = Pick<Action, Required_> &
  Partial<Omit<Action, Required_ | "auditStatus" | "tier">>;

export interface ActionFilter {
  agent?: string | undefined;
  flag?: string | undefined;
  actionType?: string | undefined;
  status?: ActionStatus | undefined;
  traceId?: string | undefined;
  /** Inclusive lower bound on started_at, ms since the epoch. */
  since?: number | undefined;
  until?: number | undefined;
  limit?: number | undefined;
  /** Newest first unless "asc". */
  order?: "asc" | "desc" | undefined;
  /** Only actions after this one in the listing's order (a page cursor). */
  after?: { startedAt: number; id: string } | undefined;
}

/** A row of the actions table as both engines return it (see ledger/sqlite, ledger/postgres). */
export interface ActionRow {
  id: string;
  trace_id: string;
  parent_id: string | null;
  agent: string;
  action_type: string;
  model: string | null;
  upstream: string | null;
  gpu: number | null;
  started_at: number;
  ended_at: number | null;
  latency_ms: number | null;
  status: ActionStatus;
  error: string | null;
  request: string | null;
  response: string | null;
  reasoning: string | null;
  confidence: number | null;
  flags: string;
  tokens_in: number | null;
  tokens_out: number | null;
  load_duration: number | null;
  prompt_eval_duration: number | null;
  eval_duration: number | null;
  total_duration: number | null;
  input_key: string | null;
  meta: string | null;
  audit_status: AuditStatus | null;
  tier: Tier;
}

export const COLUMNS = [
  "id",
  "trace_id",
  "parent_id",
  "agent",
  "action_type",
  "model",
  "upstream",
  "gpu",
  "started_at",
  "ended_at",
  "latency_ms",
  "status",
  "error",
  "request",
  "response",
  "reasoning",
  "confidence",
  "flags",
  "tokens_in",
  "tokens_out",
  "load_duration",
  "prompt_eval_duration",
  "eval_duration",
  "total_duration",
  "input_key",
  "meta",
] as const;

/** Fills the defaults of a new action: its id and trace. */
export function completeAction(action: NewAction): Action {
  return {
    id: action.id ?? newActionId(action.startedAt),
    traceId: action.traceId ?? newTraceId(),
    parentId: action.parentId ?? null,
    agent: action.agent,
    actionType: action.actionType,
    model: action.model ?? null,
    upstream: action.upstream ?? null,
    gpu: action.gpu ?? null,
    startedAt: action.startedAt,
    endedAt: action.endedAt ?? null,
    latencyMs: action.latencyMs ?? null,
    status: action.status,
    error: action.error ?? null,
    request: action.request ?? null,
    response: action.response ?? null,
    reasoning: action.reasoning ?? null,
    confidence: action.confidence ?? null,
    flags: [...new Set(action.flags ?? [])],
    tokensIn: action.tokensIn ?? null,
    tokensOut: action.tokensOut ?? null,
    loadDuration: action.loadDuration ?? null,
    promptEvalDuration: action.promptEvalDuration ?? null,
    evalDuration: action.evalDuration ?? null,
    totalDuration: action.totalDuration ?? null,
    inputKey: action.inputKey ?? null,
    meta: action.meta ?? null,
    auditStatus: null,
    tier: "detailed",
  };
}

export function toRowValues(a: Action, bodies: BodyStore | null): unknown[] {
  return [
    a.id,
    a.traceId,
    a.parentId,
    a.agent,
    a.actionType,
    a.model,
    a.upstream,
    a.gpu,
    a.startedAt,
    a.endedAt,
    a.latencyMs,
    a.status,
    a.error,
    bodyColumn(a.request, bodies),
    bodyColumn(a.response, bodies),
    a.reasoning,
    a.confidence,
    storableJson(a.flags) ?? "[]",
    a.tokensIn,
    a.tokensOut,
    a.loadDuration,
    a.promptEvalDuration,
    a.evalDuration,
    a.totalDuration,
    a.inputKey,
    storableJson(a.meta),
  ];
}

function bodyColumn(value: unknown, bodies: BodyStore | null): string | null {
  const json = storableJson(value);
  return json === null || bodies === null ? json : bodies.store(json);
}

function parseJson(text: string | null): unknown {
  return text === null ? null : JSON.parse(text);
}

function parseBody(text: string | null, bodies: BodyStore | null): unknown {
  if (text === null) return null;
  return bodies ? bodies.load(text) : JSON.parse(text);
}

export function rowToAction(row: ActionRow, bodies: BodyStore | null = null): Action {
  return {
    id: row.id,
    traceId: row.trace_id,
    parentId: row.parent_id,
    agent: row.agent,
    actionType: row.action_type,
    model: row.model,
    upstream: row.upstream,
    gpu: row.gpu,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    latencyMs: row.latency_ms,
    status: row.status,
    error: row.error,
    request: parseBody(row.request, bodies),
    response: parseBody(row.response, bodies),
    reasoning: row.reasoning,
    confidence: row.confidence,
    flags: JSON.parse(row.flags) as string[],
    tokensIn: row.tokens_in,
    tokensOut: row.tokens_out,
    loadDuration: row.load_duration,
    promptEvalDuration: row.prompt_eval_duration,
    evalDuration: row.eval_duration,
    totalDuration: row.total_duration,
    inputKey: row.input_key,
    meta: parseJson(row.meta) as Record<string, unknown> | null,
    auditStatus: row.audit_status,
    tier: row.tier,
  };
}

/** Rows of `SELECT * FROM actions` (or `a.*`) as actions; for the other stores over the table. */
/** The `--json` and API shape: snake_case field names, ISO timestamps. */
export function actionToJson(a: Action): Record<string, unknown> {
  return {
    id: a.id,
    trace_id: a.traceId,
    parent_id: a.parentId,
    agent: a.agent,
    action_type: a.actionType,
    model: a.model,
    upstream: a.upstream,
    gpu: a.gpu,
    started_at: new Date(a.startedAt).toISOString(),
    ended_at: a.endedAt === null ? null : new Date(a.endedAt).toISOString(),
    latency_ms: a.latencyMs,
    status: a.status,
    error: a.error,
    request: a.request,
    response: a.response,
    reasoning: a.reasoning,
    confidence: a.confidence,
    flags: a.flags,
    tokens_in: a.tokensIn,
    tokens_out: a.tokensOut,
    load_duration: a.loadDuration,
    prompt_eval_duration: a.promptEvalDuration,
    eval_duration: a.evalDuration,
    total_duration: a.totalDuration,
    input_key: a.inputKey,
    meta: a.meta,
    audit_status: a.auditStatus,
    tier: a.tier,
  };
}

const ALL_COLUMNS = [...COLUMNS, "audit_status", "tier"] as const;

type TrimmedRow = ActionRow & {
  request_chars: number | null;
  request_preview: string | null;
  response_chars: number | null;
  response_preview: string | null;
};

/** What a listing shows for a body it left out (GET /v0/actions/ID has it whole). */
export interface TrimmedBody {
  $trimmed: { chars: number; preview: string };
}

function trimmed(chars: number, preview: string | null): TrimmedBody {
  return { $trimmed: { chars, preview: preview ?? "" } };
}

/**
 * The columns of `actions a` for a listing: a request or response longer than `trimChars`
 * comes back as its length and a 200-character preview instead of the whole body.
 */
export function trimmedColumns(trimChars: number): string {
  const limit = Math.floor(trimChars);
  const body = (column: string) =>
    `CASE WHEN length(a.${column}) > ${limit} THEN NULL ELSE a.${column} END AS ${column},
     CASE WHEN length(a.${column}) > ${limit} THEN length(a.${column}) END AS ${column}_chars,
     CASE WHEN length(a.${column}) > ${limit} THEN substr(a.${column}, 1, 200) END AS ${column}_preview`;
  const others = ALL_COLUMNS.filter((c) => c !== "request" && c !== "response")
    .map((c) => `a.${c}`)
    .join(", ");
  return `${others}, ${body("request")}, ${body("response")}`;
}

/** Rows selected with `trimmedColumns`, as actions whose long bodies are preview markers. */
export function trimmedRowsToActions(rows: unknown[]): Action[] {
  return (rows as TrimmedRow[]).map((row) => {
    const action = rowToAction(row);
    if (row.request_chars !== null)
      action.request = trimmed(row.request_chars, row.request_preview);
    if (row.response_chars !== null) {
      action.response = trimmed(row.response_chars, row.response_preview);
    }
    return action;
  });
}

function listQuery(filter: ActionFilter, columns: string): { sql: string; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  let from = "actions a";
  if (filter.flag !== undefined) {
    // Drive the query from the flag index: (flag, started_at) is its key prefix.
    from = "action_flags f JOIN actions a ON a.id = f.action_id";
    where.push("f.flag = ?");
    params.push(filter.flag);
    if (filter.since !== undefined) {
      where.push("f.started_at >= ?");
      params.push(filter.since);
    }
  } else if (filter.since !== undefined) {
    where.push("a.started_at >= ?");
    params.push(filter.since);
  }
  if (filter.until !== undefined) {
    where.push("a.started_at < ?");
    params.push(filter.until);
  }
  for (const [column, value] of [
    ["agent", filter.agent],
    ["action_type", filter.actionType],
    ["status", filter.status],
    ["trace_id", filter.traceId],
  ] as const) {
    if (value === undefined) continue;
    where.push(`a.${column} = ?`);
    params.push(value);
  }
  const order = filter.order === "asc" ? "ASC" : "DESC";
  if (filter.after !== undefined) {
    // Keyset paging: the rows past the last one of the previous page, in the listing's order.
    const past = order === "DESC" ? "<" : ">";
    where.push(`(a.started_at ${past} ? OR (a.started_at = ? AND a.id ${past} ?))`);
    params.push(filter.after.startedAt, filter.after.startedAt, filter.after.id);
  }
  const sql = `SELECT ${columns} FROM ${from}${where.length ? ` WHERE ${where.join(" AND ")}` : ""}
    ORDER BY a.started_at ${order}, a.id ${order} LIMIT ?`;
  params.push(filter.limit ?? 100);
  return { sql, params };
}

/** The actions table and its flag index. The only place their SQL lives. */
export class ActionStore {
  private readonly insertAction: Statement;
  private readonly insertFlag: Statement;
  private readonly deleteFlag: Statement;
  private readonly updateFlags: Statement;
  private readonly selectById: Statement<[string], ActionRow>;
  private readonly selectByIdPrefix: Statement<[string], ActionRow>;
  private readonly selectTrace: Statement<[string], ActionRow>;
  private readonly selectChildren: Statement<[string], ActionRow>;
  private readonly selectByInputKey: Statement<[string, string, number], ActionRow>;
  private readonly selectTraceIdOf: Statement<[string], string>;
  private readonly selectIdsInTrace: Statement<[string], string>;

  /** A selected row as an action, its bodies read back from their files where kept there. */
  readonly toAction: (row: ActionRow) => Action;

  constructor(
    readonly db: Db,
    /** Where bodies over the inline size live; null keeps every body in its row. */
    readonly bodies: BodyStore | null = null,
  ) {
    this.toAction = (row) => rowToAction(row, bodies);
    const placeholders = COLUMNS.map(() => "?").join(", ");
    this.insertAction = db.prepare(
      `INSERT INTO actions (${COLUMNS.join(", ")}) VALUES (${placeholders})`,
    );
    this.insertFlag = db.prepare(
      "INSERT OR IGNORE INTO action_flags (flag, started_at, action_id) VALUES (?, ?, ?)",
    );
    this.deleteFlag = db.prepare("DELETE FROM action_flags WHERE action_id = ? AND flag = ?");
    this.updateFlags = db.prepare("UPDATE actions SET flags = ? WHERE id = ?");
    this.selectById = db.prepare("SELECT * FROM actions WHERE id = ?");
    this.selectByIdPrefix = db.prepare("SELECT * FROM actions WHERE id >= ? ORDER BY id LIMIT 2");
    this.selectTrace = db.prepare(
      "SELECT * FROM actions WHERE trace_id = ? ORDER BY started_at, id",
    );
    this.selectChildren = db.prepare(
      "SELECT * FROM actions WHERE parent_id = ? ORDER BY started_at, id",
    );
    // Lineage lookups on the gateway's request path: ids only, never the bodies.
    this.selectTraceIdOf = db
      .prepare<[string], string>("SELECT trace_id FROM actions WHERE id = ?")
      .pluck();
    this.selectIdsInTrace = db
      .prepare<[string], string>("SELECT id FROM actions WHERE trace_id = ?")
      .pluck();
    this.selectByInputKey = db.prepare(
      `SELECT * FROM actions INDEXED BY actions_input_key
       WHERE input_key = ? AND agent = ? ORDER BY started_at DESC, id DESC LIMIT ?`,
    );
  }

  /** Writes actions in one transaction; returns them completed with ids. */
  insert(actions: NewAction[]): Action[] {
    const complete = actions.map(completeAction);
    this.db.transaction(() => {
      for (const a of complete) {
        this.insertAction.run(toRowValues(a, this.bodies));
        for (const flag of a.flags) this.insertFlag.run(flag, a.startedAt, a.id);
      }
    })();
    return complete;
  }

  /**
   * Inserts, or throws SQLITE_BUSY at once if another connection holds the write lock, instead of
   * waiting for it (busy_timeout) with the event loop blocked; see ActionWriter.
   */
  insertWithoutWaiting(actions: NewAction[]): Action[] {
    const timeout = this.db.pragma("busy_timeout", { simple: true });
    this.db.pragma("busy_timeout = 0");
    try {
      return this.insert(actions);
    } finally {
      this.db.pragma(`busy_timeout = ${Number(timeout)}`);
    }
  }

  insertOne(action: NewAction): Action {
    return this.insert([action])[0]!;
  }

  get(id: string): Action | undefined {
    const row = this.selectById.get(id);
    return row ? this.toAction(row) : undefined;
  }

  /**
   * By full id or by a unique prefix of at least 8 characters, as a person would type it. A
   * prefix that several actions share (ids begin with their millisecond) is an error naming them.
   */
  find(idOrPrefix: string): Action | undefined {
    const exact = this.get(idOrPrefix);
    if (exact || idOrPrefix.length < 8) return exact;
    const rows = this.selectByIdPrefix.all(idOrPrefix).filter((r) => r.id.startsWith(idOrPrefix));
    if (rows.length > 1) {
      throw new NightshiftError(
        `id prefix ${idOrPrefix} matches several actions (${rows.map((r) => r.id).join(", ")}, ...); give more of the id`,
      );
    }
    return rows.length === 1 ? this.toAction(rows[0]!) : undefined;
  }

  list(filter: ActionFilter = {}): Action[] {
    const { sql, params } = listQuery(filter, "a.*");
    return (this.db.prepare(sql).all(params) as ActionRow[]).map(this.toAction);
  }

  /**
   * A listing page: a body longer than `trimChars` characters comes back as a short preview
   * marker (and a body kept in a file as its reference, unread), so a page of a hundred 5 MB
   * chats is kilobytes, not half a gigabyte. One action (`get`, `find`) is always whole.
   */
  listTrimmed(filter: ActionFilter, trimChars: number): Action[] {
    const { sql, params } = listQuery(filter, trimmedColumns(trimChars));
    return trimmedRowsToActions(this.db.prepare(sql).all(params));
  }

  trace(traceId: string): Action[] {
    return this.selectTrace.all(traceId).map(this.toAction);
  }

  /** The trace an action belongs to, without reading the action. */
  traceIdOf(id: string): string | undefined {
    return this.selectTraceIdOf.get(id);
  }

  /** The ids of a trace's actions, without reading them. */
  idsInTrace(traceId: string): string[] {
    return this.selectIdsInTrace.all(traceId);
  }

  children(parentId: string): Action[] {
    return this.selectChildren.all(parentId).map(this.toAction);
  }

  /**
   * Earlier actions of one agent on the same input (see input_key), newest first. Asked before
   * every stage, so it is forced onto the input_key index: left to itself SQLite satisfies the
   * ORDER BY with the (agent, started_at) index and walks every action of the agent.
   */
  byInputKey(agent: string, inputKey: string, limit = 20): Action[] {
    return this.selectByInputKey.all(inputKey, agent, limit).map(this.toAction);
  }

  addFlags(id: string, flags: string[]): void {
    this.changeFlags(id, (current) => [...new Set([...current, ...flags])]);
  }

  removeFlags(id: string, flags: string[]): void {
    this.changeFlags(id, (current) => current.filter((f) => !flags.includes(f)));
  }

  private changeFlags(id: string, change: (current: string[]) => string[]): void {
    this.db.transaction(() => {
      const action = this.get(id);
      if (!action) return;
      const next = change(action.flags);
      for (const flag of action.flags) {
        if (!next.includes(flag)) this.deleteFlag.run(id, flag);
      }
      for (const flag of next) this.insertFlag.run(flag, action.startedAt, id);
      this.updateFlags.run(JSON.stringify(next), id);
    })();
  }

  setAuditStatus(ids: string[], status: AuditStatus | null): void {
    const update = this.db.prepare("UPDATE actions SET audit_status = ? WHERE id = ?");
    this.db.transaction(() => {
      for (const id of ids) update.run(status, id);
    })();
  }

  count(filter: Pick<ActionFilter, "since" | "agent"> = {}): number {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.since !== undefined) {
      where.push("started_at >= ?");
      params.push(filter.since);
    }
    if (filter.agent !== undefined) {
      where.push("agent = ?");
      params.push(filter.agent);
    }
    const sql = `SELECT count(*) FROM actions${where.length ? ` WHERE ${where.join(" AND ")}` : ""}`;
    return Number(this.db.prepare(sql).pluck().get(params));
  }
}
