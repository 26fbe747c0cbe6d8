import type { Action, NewAction } from "../ledger/actions.js";
import type { ActionAppender } from "../ledger/stores/index.js";

/**
 * Where the runtime writes actions: the ledger's batched appender (either engine), or anything
 * with its shape. `write` queues and returns the completed action at once; `flush` commits.
 */
export type ActionSink = Pick<ActionAppender, "write" | "flush">;

/**
 * The actions this runtime wrote lately, kept in memory beside the batched writer. History must
 * see a stage's earlier steps at once, but forcing the writer to commit before every stage cost a
 * synchronous SQLite transaction each time (milliseconds, on a busy disk tens); instead the
 * ledger answers for what is committed and this answers for what may still be queued. On
 * PostgreSQL the commit is a network round trip in the background, so this is what lets a stage
 * see its own run's earlier steps without waiting on it.
 */
export class RecentActions implements ActionSink {
  private readonly order: Action[] = [];
  private readonly byKey = new Map<string, Action[]>();
  private readonly byTrace = new Map<string, Action[]>();

  constructor(
    private readonly writer: ActionSink,
    private readonly capacity = 2000,
  ) {}

  write(action: NewAction): Action {
    const written = this.writer.write(action);
    this.order.push(written);
    if (written.inputKey) push(this.byKey, written.inputKey, written);
    push(this.byTrace, written.traceId, written);
    if (this.order.length > this.capacity) this.forget(this.order.shift()!);
    return written;
  }

  flush(): Promise<number> {
    return this.writer.flush();
  }

  withInputKey(agent: string, key: string): Action[] {
    return (this.byKey.get(key) ?? []).filter((a) => a.agent === agent);
  }

  inTrace(traceId: string): Action[] {
    return this.byTrace.get(traceId) ?? [];
  }

  private forget(action: Action): void {
    if (action.inputKey) remove(this.byKey, action.inputKey, action);
    remove(this.byTrace, action.traceId, action);
  }
}

function push(map: Map<string, Action[]>, key: string, action: Action): void {
  const list = map.get(key);
  if (list) list.push(action);
  else map.set(key, [action]);
}

function remove(map: Map<string, Action[]>, key: string, action: Action): void {
  const list = map.get(key);
  if (!list) return;
  const index = list.indexOf(action);
  if (index >= 0) list.splice(index, 1);
  if (list.length === 0) map.delete(key);
}
