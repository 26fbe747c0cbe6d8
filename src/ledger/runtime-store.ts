import type { Statement } from "better-sqlite3";
import type { Action, ActionStore } from "./actions.js";
import type { Db } from "./db.js";

/**
 * The runtime's history queries. "An agent's earlier actions on the same input" is asked before
 * every stage, so it must stay a short index range scan: forced onto the input_key index, because
 * left to itself SQLite picks the (agent, started_at) index to satisfy the ORDER BY and walks every
 * action of the agent (milliseconds per stage once an agent has a few thousand actions).
 */
export class RuntimeStore {
  private readonly selectByInputKey: Statement<[string, string, number], { id: string }>;

  constructor(
    db: Db,
    private readonly actions: ActionStore,
  ) {
    this.selectByInputKey = db.prepare(
      `SELECT id FROM actions INDEXED BY actions_input_key
       WHERE input_key = ? AND agent = ? ORDER BY started_at DESC, id DESC LIMIT ?`,
    );
  }

  /** Earlier actions of one agent on the same input_key, newest first. */
  byInputKey(agent: string, inputKey: string, limit = 20): Action[] {
    const rows = this.selectByInputKey.all(inputKey, agent, limit);
    return rows.map((row) => this.actions.get(row.id)).filter((a): a is Action => a !== undefined);
  }
}
