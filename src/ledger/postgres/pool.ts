import pg from "pg";
import { NightshiftError } from "../../errors.js";
import { maskUrl } from "./url.js";

export { maskUrl } from "./url.js";

const INT8_OID = 20;

/**
 * int8 columns (times in ms, token counts, durations in ns) come back as numbers, as they do from
 * SQLite: every value the ledger keeps is far below 2^53. Set per pool, not on pg's global types.
 */
const types = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === INT8_OID
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/** Checks that `url` is a postgres:// URL; `field` names where it came from in the message. */
export function checkPostgresUrl(url: string, field = "ledger.url"): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new NightshiftError(`${field}: ${maskUrl(url)} is not a URL (postgres://user@host/db)`);
  }
  if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:") {
    throw new NightshiftError(
      `${field}: ${maskUrl(url)} is not a PostgreSQL URL; it must start with postgres://`,
    );
  }
}

export interface PoolOptions {
  /** Connections at most; the writer uses one at a time, readers the rest. */
  max?: number;
  /** Told about errors on idle connections (a server restart); the pool replaces them. */
  onError?: (error: Error) => void;
  /** How long to wait for a connection before failing (default 10 s). */
  connectTimeoutMs?: number;
}

export function openPool(url: string, options: PoolOptions = {}): pg.Pool {
  checkPostgresUrl(url);
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 8,
    types,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    idleTimeoutMillis: 30_000,
    application_name: "nightshift",
  });
  // Without a listener an idle connection's error (the server restarting) would crash the daemon.
  pool.on("error", (error) => options.onError?.(error));
  return pool;
}

/** Wraps a failure to reach the server in a message that names it (password masked). */
export function connectionError(url: string, error: unknown): NightshiftError {
  const detail = error instanceof Error ? error.message : String(error);
  return new NightshiftError(`cannot use the PostgreSQL ledger at ${maskUrl(url)}: ${detail}`, {
    status: 503,
    code: "ledger",
    cause: error,
  });
}

/** Errors after which the same statement may succeed on a new connection. */
export function isConnectionLoss(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== "string") {
    const message = error instanceof Error ? error.message : "";
    return /Connection terminated|connection timeout|Client has encountered a connection error/i.test(
      message,
    );
  }
  // Node's socket errors, and PostgreSQL's classes 08 (connection), 57P (shutdown), 53 (resources).
  return (
    ["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "ENOTFOUND", "EAI_AGAIN"].includes(code) ||
    code.startsWith("08") ||
    code.startsWith("57P") ||
    code.startsWith("53")
  );
}
