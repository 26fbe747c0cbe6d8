import type pg from "pg";
import { type Action, COLUMNS, toRowValues } from "../actions.js";

/** Each column's array type for unnest; anything not listed is text. */
export const ARRAY_TYPES: Partial<Record<string, string>> = {
  gpu: "int4[]",
  started_at: "int8[]",
  ended_at: "int8[]",
  latency_ms: "float8[]",
  confidence: "float8[]",
  tokens_in: "int8[]",
  tokens_out: "int8[]",
  load_duration: "int8[]",
  prompt_eval_duration: "int8[]",
  eval_duration: "int8[]",
  total_duration: "int8[]",
};

/**
 * One statement per batch whatever its size: each column travels as one array parameter and
 * unnest turns them back into rows (measured faster than multi-row VALUES, which also caps a
 * batch at 65,535 parameters). ON CONFLICT DO NOTHING makes a retry after a lost acknowledgement
 * harmless: the rows that did land are not written twice.
 */
const FLAGS_AT = COLUMNS.length + 1;

/**
 * One statement per batch whatever its size, so one round trip and one implicit transaction:
 * each column travels as one array parameter and unnest turns them back into rows (measured
 * faster than multi-row VALUES, which also caps a batch at 65,535 parameters, and no slower than
 * COPY at the writer's batch sizes). The flag rows ride along in a data-modifying WITH.
 * ON CONFLICT DO NOTHING makes a retry after a lost acknowledgement harmless: rows that did land
 * are not written twice.
 */
const INSERT_BATCH = `WITH flagged AS (
    INSERT INTO action_flags (flag, started_at, action_id)
    SELECT * FROM unnest($${FLAGS_AT}::text[], $${FLAGS_AT + 1}::int8[], $${FLAGS_AT + 2}::text[])
    ON CONFLICT DO NOTHING RETURNING 1
  )
  INSERT INTO actions (${COLUMNS.join(", ")})
  SELECT * FROM unnest(${COLUMNS.map((c, i) => `$${i + 1}::${ARRAY_TYPES[c] ?? "text[]"}`).join(", ")})
  ON CONFLICT (id) DO NOTHING`;

/**
 * PostgreSQL refuses the NUL character in text, and one hostile model name would fail the whole
 * batch again on every retry; SQLite keeps it. It becomes U+FFFD here (JSON bodies are safe: JSON
 * text writes NUL as \u0000).
 */
export function withoutNul(value: unknown): unknown {
  return typeof value === "string" && value.includes("\0")
    ? value.replaceAll("\0", "\uFFFD")
    : value;
}

/** Writes completed actions and their flag rows in one statement (atomic on its own). */
export async function insertActions(
  client: pg.ClientBase | pg.Pool,
  actions: readonly Action[],
): Promise<void> {
  if (actions.length === 0) return;
  const columns: unknown[][] = COLUMNS.map(() => new Array(actions.length));
  const flags: [string[], number[], string[]] = [[], [], []];
  for (let row = 0; row < actions.length; row++) {
    const action = actions[row]!;
    const values = toRowValues(action, null);
    for (let c = 0; c < values.length; c++) columns[c]![row] = withoutNul(values[c]);
    for (const flag of action.flags) {
      flags[0].push(withoutNul(flag) as string);
      flags[1].push(action.startedAt);
      flags[2].push(withoutNul(action.id) as string);
    }
  }
  await client.query({
    name: "ns_insert_batch",
    text: INSERT_BATCH,
    values: [...columns, ...flags],
  });
}

/** Runs `work` in a transaction on one pooled connection. */
export async function inTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query("BEGIN");
    const result = await work(client);
    await client.query("COMMIT");
    return result;
  } catch (error) {
    try {
      await client.query("ROLLBACK");
    } catch {
      // The connection is gone; it is discarded below and the first error is the one that matters.
      broken = true;
    }
    throw error;
  } finally {
    client.release(broken);
  }
}
