import type { Action, ActionRow, ActionStore, NewAction } from "../actions.js";
import { actionCountQuery, actionListQuery } from "../list-query.js";
import { encodeCursor } from "../stores/actions.js";
import type { ActionPage, ActionQuery, ActionReads } from "../stores/index.js";

const DEFAULT_LIMIT = 100;

/**
 * The action log's reads over the synchronous SQLite ActionStore. better-sqlite3 answers at once,
 * so each method is the store's call wrapped in a resolved promise.
 */
export class SqliteActionReads implements ActionReads {
  constructor(readonly store: ActionStore) {}

  async get(id: string): Promise<Action | undefined> {
    return this.store.get(id);
  }

  async find(idOrPrefix: string): Promise<Action | undefined> {
    return this.store.find(idOrPrefix);
  }

  async list(query: ActionQuery = {}): Promise<Action[]> {
    return this.select(query, query.limit ?? DEFAULT_LIMIT);
  }

  async page(query: ActionQuery = {}): Promise<ActionPage> {
    const limit = query.limit ?? DEFAULT_LIMIT;
    const rows = this.select(query, limit + 1);
    const actions = rows.slice(0, limit);
    const last = actions[actions.length - 1];
    return { actions, next: rows.length > limit && last ? encodeCursor(last) : null };
  }

  async count(filter: { since?: number; agent?: string } = {}): Promise<number> {
    const { sql, params } = actionCountQuery(filter, () => "?");
    return Number((this.store.db.prepare(sql).get(params) as { n: number }).n);
  }

  async trace(traceId: string): Promise<Action[]> {
    return this.store.trace(traceId);
  }

  async children(parentId: string): Promise<Action[]> {
    return this.store.children(parentId);
  }

  async byInputKey(agent: string, inputKey: string, limit?: number): Promise<Action[]> {
    return this.store.byInputKey(agent, inputKey, limit);
  }

  async traceIdOf(id: string): Promise<string | undefined> {
    return this.store.traceIdOf(id);
  }

  async idsInTrace(traceId: string): Promise<string[]> {
    return this.store.idsInTrace(traceId);
  }

  async addFlags(id: string, flags: string[]): Promise<void> {
    this.store.addFlags(id, flags);
  }

  async removeFlags(id: string, flags: string[]): Promise<void> {
    this.store.removeFlags(id, flags);
  }

  async insert(actions: NewAction[]): Promise<Action[]> {
    return this.store.insert(actions);
  }

  private select(query: ActionQuery, limit: number): Action[] {
    const { sql, params } = actionListQuery(query, () => "?", limit);
    return (this.store.db.prepare(sql).all(params) as ActionRow[]).map(this.store.toAction);
  }
}
