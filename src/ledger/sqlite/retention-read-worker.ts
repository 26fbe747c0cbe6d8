import { setPriority } from "node:os";
import { parentPort, workerData } from "node:worker_threads";
import Database from "better-sqlite3";
import type { BatchRequest } from "../stores/retention.js";
import { readBatch } from "./retention-batches.js";
import { RetentionStatements } from "./retention-statements.js";

/**
 * The prune's reader thread (see reader.ts): its own connection, read-only, answering one batch
 * request at a time. Errors go back as messages, with their text, to the request that met them.
 */
const BACKGROUND_NICE = 10;
const port = parentPort!;
yieldToForeground();
const { path } = workerData as { path: string };
const db = open(path);
const store = new RetentionStatements(db);
port.postMessage({ ready: true });

function open(file: string): Database.Database {
  try {
    const connection = new Database(file, { fileMustExist: true });
    connection.pragma("query_only = 1");
    connection.pragma("cache_size = -65536");
    return connection;
  } catch (error) {
    // Thrown as it is, a SqliteError would reach the parent without its message.
    throw new Error(`the prune's reader cannot open ${file}: ${(error as Error).message}`);
  }
}

/**
 * Nice this thread (on Linux the priority is per thread): on a small machine the prune's extra
 * threads must not take CPU from the gateway, whose writes they would otherwise delay.
 */
function yieldToForeground(): void {
  try {
    setPriority(BACKGROUND_NICE);
  } catch {
    // Not permitted (or not supported) here: run at the normal priority.
  }
}

type Message = { id: number; request: BatchRequest } | { close: true };

port.on("message", (message: Message) => {
  if ("close" in message) {
    db.close();
    port.close();
    return;
  }
  try {
    port.postMessage({ id: message.id, data: readBatch(store, message.request) });
  } catch (error) {
    port.postMessage({
      id: message.id,
      error: error instanceof Error ? error.message : String(error),
    });
  }
});
