import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { Clock } from "../clock.js";
import { NightshiftError } from "../errors.js";
import type { AuditRun, AuditStore, RunClaim } from "../ledger/stores/index.js";

/**
 * One audit run at a time, on every machine that shares the ledger. A process claims a run in the
 * store (atomically, whichever engine) and keeps the claim alive with a heartbeat; a claim not
 * renewed for STALE_AFTER_MS belongs to a process that died, and the next audit takes the run
 * over and resumes it at its first uncommitted batch.
 */
export const HEARTBEAT_MS = 30_000;
export const STALE_AFTER_MS = 5 * 60_000;

/** This process's claims: one owner token, its host, and the time from the clock. */
export function claimant(clock: Clock, host = defaultHost()): () => RunClaim {
  const owner = randomBytes(12).toString("hex");
  return () => ({ owner, host, now: clock.now(), staleAfterMs: STALE_AFTER_MS, holderGone });
}

/** "HOST pid N" of this machine whose process N no longer runs (killed, crashed). */
export function holderGone(host: string | null): boolean {
  const match = /^(.*) pid (\d+)$/.exec(host ?? "");
  if (!match || match[1] !== hostname()) return false;
  const pid = Number(match[2]);
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === "ESRCH";
  }
}

/** The host name and process id, so two audits on one machine are told apart too. */
export function defaultHost(): string {
  return `${hostname()} pid ${process.pid}`;
}

/** A second audit while one runs anywhere: names the run, where it runs and since when. */
export class AuditRunningError extends NightshiftError {
  override readonly name = "AuditRunningError";
  constructor(readonly run: AuditRun) {
    const iso = (ms: number | null) => (ms === null ? "?" : new Date(ms).toISOString());
    super(
      `an audit is already running: run ${run.id} on ${run.host ?? "an unknown host"}, started ${iso(run.startedAt)}, batch ${run.nextBatch}/${run.batches}, last heard from ${iso(run.heartbeatAt)}. ` +
        "Only one audit runs at a time across the machines sharing this ledger; wait for it to finish " +
        `(\`nightshift audit list\`), or, if that process is gone, start again after ${STALE_AFTER_MS / 60_000} minutes without a heartbeat and the run is taken over where it stopped.`,
      { status: 409, code: "audit_running" },
    );
  }
}

/**
 * Renews the claim every HEARTBEAT_MS of real time until stopped. `lost` turns true when the
 * store says the run is no longer ours (another process took it over), and `onLost` is told once.
 */
export function keepClaimAlive(
  audit: Pick<AuditStore, "heartbeat">,
  runId: string,
  claim: () => RunClaim,
  onLost: () => void,
  log: (message: string) => void,
): { readonly lost: boolean; stop(): void } {
  let lost = false;
  let beating = false;
  const timer = setInterval(() => {
    if (beating || lost) return;
    beating = true;
    const { owner, now } = claim();
    audit
      .heartbeat(runId, owner, now)
      .then((alive) => {
        if (alive) return;
        lost = true;
        onLost();
      })
      .catch((error: unknown) => {
        // A missed beat is not a lost claim; the next one, or the batch's commit, will tell.
        log(`audit run ${runId}: heartbeat not recorded: ${String(error)}`);
      })
      .finally(() => {
        beating = false;
      });
  }, HEARTBEAT_MS);
  timer.unref();
  return {
    get lost() {
      return lost;
    },
    stop: () => clearInterval(timer),
  };
}
