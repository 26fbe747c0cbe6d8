import type pg from "pg";
import { NightshiftError } from "../../errors.js";
import {
  type Action,
  type ActionRow,
  completeAction,
  type NewAction,
  rowToAction,
} from "../actions.js";
import { actionCountQuery, actionListQuery } from "../list-query.js";
import type { ActionPage, ActionQuery, ActionReads } from "../stores/index.js";
import { encodeCursor } from "../stores/index.js";
import { insertActions, inTransaction } from "./insert.js";

const DEFAULT_LIMIT = 100;
const dollar = (n: number) => `$${n}`;

/** The action log's reads and direct writes on PostgreSQL. Hot lookups are named prepared statements. */
export class PostgresActionReads implements ActionReads {
  constructor(private readonly pool: pg.Pool) {}

  async get(id: string): Promise<Action | undefined> {
    const row = await this.one("ns_get", "SELECT * FROM actions WHERE id = $1", [id]);
    return row ? rowToAction(row) : undefined;
  }

  async find(idOrPrefix: string): Promise<Action | undefined> {
    const exact = await this.get(idOrPrefix);
    if (exact || idOrPrefix.length < 8) return exact;
    const { rows } = await this.pool.query<ActionRow>({
      name: "ns_prefix",
      text: "SELECT * FROM actions WHERE id >= $1 ORDER BY id LIMIT 2",
      values: [idOrPrefix],
    });
    const matches = rows.filter((r) => r.id.startsWith(idOrPrefix));
    if (matches.length > 1) {
      throw new NightshiftError(
        `id prefix ${idOrPrefix} matches several actions (${matches.map((r) => r.id).join(", ")}, ...); give more of the id`,
      );
    }
    return matches.length === 1 ? rowToAction(matches[0]!) : undefined;
  }

  async list(query: ActionQuery = {}): Promise<Action[]> {
    return this.select(query, query.limit ?? DEFAULT_LIMIT);
  }

  async page(query: ActionQuery = {}): Promise<ActionPage> {
    const limit = query.limit ?? DEFAULT_LIMIT;
    const rows = await this.select(query, limit + 1);
    const actions = rows.slice(0, limit);
    const last = actions[actions.length - 1];
    return { actions, next: rows.length > limit && last ? encodeCursor(last) : null };
  }

  async count(filter: { since?: number; agent?: string } = {}): Promise<number> {
    const { sql, params } = actionCountQuery(filter, dollar);
    const { rows } = await this.pool.query<{ n: number }>(sql, params);
    return Number(rows[0]?.n ?? 0);
  }

  async trace(traceId: string): Promise<Action[]> {
    return this.many(
      "ns_trace",
      "SELECT * FROM actions WHERE trace_id = $1 ORDER BY started_at, id",
      traceId,
    );
  }

  async children(parentId: string): Promise<Action[]> {
    return this.many(
      "ns_children",
      "SELECT * FROM actions WHERE parent_id = $1 ORDER BY started_at, id",
      parentId,
    );
  }

  /** Served in index order by actions_input_key_agent (migration 0011): no sort, stops at `limit`. */
  async byInputKey(agent: string, inputKey: string, limit = 20): Promise<Action[]> {
    const { rows } = await this.pool.query<ActionRow>({
      name: "ns_by_input_key",
      text: `SELECT * FROM actions WHERE input_key = $1 AND agent = $2
             ORDER BY started_at DESC, id DESC LIMIT $3`,
      values: [inputKey, agent, limit],
    });
    return rows.map((row) => rowToAction(row));
  }

  async traceIdOf(id: string): Promise<string | undefined> {
    const { rows } = await this.pool.query<{ trace_id: string }>({
      name: "ns_trace_of",
      text: "SELECT trace_id FROM actions WHERE id = $1",
      values: [id],
    });
    return rows[0]?.trace_id;
  }

  async idsInTrace(traceId: string): Promise<string[]> {
    const { rows } = await this.pool.query<{ id: string }>({
      name: "ns_ids_in_trace",
      text: "SELECT id FROM actions WHERE trace_id = $1",
      values: [traceId],
    });
    return rows.map((r) => r.id);
  }

  addFlags(id: string, flags: string[]): Promise<void> {
    return this.changeFlags(id, (current) => [...new Set([...current, ...flags])]);
  }

  removeFlags(id: string, flags: string[]): Promise<void> {
    return this.changeFlags(id, (current) => current.filter((f) => !flags.includes(f)));
  }

  async insert(actions: NewAction[]): Promise<Action[]> {
    const complete = actions.map(completeAction);
    await insertActions(this.pool, complete);
    return complete;
  }

  /** Row-locked, so two daemons flagging one action at once both keep their flags. */
  private changeFlags(id: string, change: (current: string[]) => string[]): Promise<void> {
    return inTransaction(this.pool, async (client) => {
      const { rows } = await client.query<{ flags: string; started_at: number }>(
        "SELECT flags, started_at FROM actions WHERE id = $1 FOR UPDATE",
        [id],
      );
      const row = rows[0];
      if (!row) return;
      const current = JSON.parse(row.flags) as string[];
      const next = change(current);
      const gone = current.filter((f) => !next.includes(f));
      if (gone.length) {
        await client.query("DELETE FROM action_flags WHERE action_id = $1 AND flag = ANY($2)", [
          id,
          gone,
        ]);
      }
      await client.query(
        `INSERT INTO action_flags (flag, started_at, action_id)
         SELECT unnest($1::text[]), $2, $3 ON CONFLICT DO NOTHING`,
        [next, row.started_at, id],
      );
      await client.query("UPDATE actions SET flags = $1 WHERE id = $2", [JSON.stringify(next), id]);
    });
  }

  private async select(query: ActionQuery, limit: number): Promise<Action[]> {
    const { sql, params } = actionListQuery(query, dollar, limit);
    const { rows } = await this.pool.query<ActionRow>(sql, params);
    return rows.map((row) => rowToAction(row));
  }

  private async one(name: string, text: string, values: unknown[]): Promise<ActionRow | undefined> {
    const { rows } = await this.pool.query<ActionRow>({ name, text, values });
    return rows[0];
  }

  private async many(name: string, text: string, value: string): Promise<Action[]> {
    const { rows } = await this.pool.query<ActionRow>({ name, text, values: [value] });
    return rows.map((row) => rowToAction(row));
  }
}
