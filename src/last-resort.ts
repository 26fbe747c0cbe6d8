import type { Ledger } from "./ledger/ledger.js";

/** Exit status for a bug that reached the top (EX_SOFTWARE); systemd's Restart=on-failure restarts. */
export const BUG_EXIT_CODE = 70;
/** How long a shutdown may take before the process flushes the ledger and exits anyway. */
export const SHUTDOWN_BOUND_MS = 15_000;

export interface LastResortOptions {
  ledger: Ledger;
  log: (line: string) => void;
  exit?: (code: number) => void;
}

/**
 * The daemon's last line: an exception or rejection nothing handled is a bug, and the process
 * state can no longer be trusted, so it says what happened, commits what the writer holds (every
 * call answered so far), and exits non-zero for systemd to restart it. Request handling is total
 * (see gateway/server.ts), so reaching this means a bug, never bad input. Returns the uninstaller.
 */
export function installLastResort(options: LastResortOptions): () => void {
  const onFatal = lastResort(options);
  const onException = (error: unknown) => onFatal(error, "uncaught exception");
  const onRejection = (error: unknown) => onFatal(error, "unhandled rejection");
  process.on("uncaughtException", onException);
  process.on("unhandledRejection", onRejection);
  return () => {
    process.off("uncaughtException", onException);
    process.off("unhandledRejection", onRejection);
  };
}

/** The handler itself: logs, commits the writer's queue, closes the ledger, exits 70; once. */
export function lastResort(options: LastResortOptions): (error: unknown, kind: string) => void {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let fired = false;
  return (error, kind) => {
    if (fired) return;
    fired = true;
    options.log(`nightshift: ${kind}, a bug; exiting: ${String((error as Error)?.stack ?? error)}`);
    flushQuietly(options);
    exit(BUG_EXIT_CODE);
  };
}

/**
 * Bounds a shutdown: if `stopping` has not settled within `boundMs`, the ledger's queue is
 * committed and the process exits with `code`. A stuck service must not keep queued calls from
 * the disk, nor the process from ending.
 */
export function boundShutdown(
  stopping: Promise<void>,
  options: LastResortOptions & { boundMs?: number },
): void {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const boundMs = options.boundMs ?? SHUTDOWN_BOUND_MS;
  const timer = setTimeout(() => {
    options.log(`nightshift: shutdown took over ${boundMs} ms; flushing the ledger and exiting`);
    flushQuietly(options);
    exit(1);
  }, boundMs);
  timer.unref();
  void stopping.finally(() => {
    clearTimeout(timer);
    // Anything still holding the event loop open (a socket, a child's pipe) must not keep a
    // stopped daemon alive; the ledger is closed by now.
    setTimeout(
      () => exit(process.exitCode === undefined ? 0 : Number(process.exitCode)),
      1000,
    ).unref();
  });
}

function flushQuietly(options: LastResortOptions): void {
  try {
    options.ledger.close();
  } catch (error) {
    options.log(`nightshift: could not flush the ledger: ${String(error)}`);
  }
}
