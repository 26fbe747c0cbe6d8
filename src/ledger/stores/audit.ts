import { NightshiftError } from "../../errors.js";
import type { AuditStatus } from "../actions.js";

/**
 * The night audit's part of the ledger (SQLite: migration 0006; PostgreSQL: 0007-audit.sql):
 * runs, the items each run reviews, corrections and cross-agent insights, plus what the audit
 * reads of the action log (its candidates, a trace's usage) and writes to it (audit_status).
 * camelCase here, snake_case in the database and in `--json`.
 *
 * One run at a time across every machine sharing the ledger: a run is claimed (claimRun /
 * createRun) by one owner, which keeps the claim alive with `heartbeat`; a claim whose heartbeat
 * is older than `staleAfterMs` belongs to a daemon that died and may be taken over.
 */
export type AuditRunStatus = "running" | "paused" | "done" | "failed";
export type Verdict = "correct" | "incorrect" | "unsure";
export type ItemOutcome = "verified" | "corrected" | "in_review" | "ruled";

export interface AuditRun {
  id: string;
  seed: string;
  traceId: string;
  mode: "normal" | "degraded";
  reviewerRole: string;
  reviewerModel: string;
  windowStart: number;
  windowEnd: number;
  sampleRate: number;
  status: AuditRunStatus;
  batches: number;
  nextBatch: number;
  startedAt: number;
  finishedAt: number | null;
  passed: number | null;
  error: string | null;
  /** The host that holds (or last held) the run, and when it last said it is alive. */
  host: string | null;
  heartbeatAt: number | null;
}

export interface AuditItem {
  runId: string;
  actionId: string;
  agent: string;
  reason: string;
  batch: number;
  startedAt: number;
  confidenceBefore: number | null;
  verdict: Verdict | null;
  correctedOutput: unknown;
  reasoning: string | null;
  confidence: number | null;
  outcome: ItemOutcome | null;
  pattern: unknown;
  patternWritten: boolean;
  reviewItemId: string | null;
  reviewedAt: number | null;
}

export type NewAuditItem = Pick<
  AuditItem,
  "actionId" | "agent" | "reason" | "batch" | "startedAt" | "confidenceBefore"
>;

export type NewAuditRun = Omit<
  AuditRun,
  "status" | "nextBatch" | "finishedAt" | "passed" | "error" | "host" | "heartbeatAt"
>;

export interface ItemResult {
  actionId: string;
  verdict: Verdict;
  correctedOutput: unknown;
  reasoning: string;
  confidence: number;
  outcome: ItemOutcome;
  pattern: unknown;
  reviewItemId: string | null;
  patternWritten?: boolean;
}

export interface Correction {
  id: string;
  runId: string | null;
  actionId: string;
  agent: string;
  source: "audit" | "person";
  original: unknown;
  corrected: unknown;
  reasoning: string | null;
  reviewerModel: string | null;
  confidenceBefore: number | null;
  confidenceAfter: number | null;
  createdAt: number;
  appliedAt: number | null;
  applyNote: string | null;
  applyError: string | null;
}

export type NewCorrection = Omit<Correction, "appliedAt" | "applyNote" | "applyError">;

export interface Insight {
  id: string;
  runId: string;
  batch: number;
  actionIds: string[];
  agents: string[];
  description: string;
  confidence: number;
  createdAt: number;
}

/** The columns selection needs, without the request and response bodies. */
export interface CandidateRow {
  id: string;
  agent: string;
  actionType: string;
  model: string | null;
  status: "ok" | "error";
  flags: string[];
  confidence: number | null;
  startedAt: number;
  parentId: string | null;
  meta: Record<string, unknown> | null;
}

export interface TraceUsage {
  calls: number;
  tokensIn: number;
  tokensOut: number;
  modelMs: number;
}

/** An audit item of one action, with the run's reviewer. */
export interface ActionAuditItem {
  runId: string;
  reviewerModel: string;
  reason: string;
  confidenceBefore: number | null;
  verdict: Verdict | null;
  confidence: number | null;
  reasoning: string | null;
  correctedOutput: unknown;
  outcome: ItemOutcome | null;
  reviewItemId: string | null;
  reviewedAt: number | null;
}

/** Reviewed actions of one local day (YYYY-MM-DD) and how many the audit found wrong. */
export interface LearningDay {
  day: string;
  reviewed: number;
  wrong: number;
  unsure: number;
}

/** Who claims a run: a token unique to this process's attempt, its host, and the time. */
export interface RunClaim {
  owner: string;
  host: string;
  now: number;
  /** A running run whose heartbeat is older than this belongs to a dead process. */
  staleAfterMs: number;
  /**
   * Whether the process recorded as `host` is known to be gone (on this machine, its pid no
   * longer runs): its run is taken over at once, without waiting for the heartbeat to go stale.
   */
  holderGone?(host: string | null): boolean;
}

/**
 * What claiming found: nothing to resume (create a run), an unfinished run now ours (resumed,
 * or taken over from a dead holder), or a run another live process holds (busy).
 */
export type ClaimResult =
  | { kind: "none" }
  | { kind: "created" | "resumed"; run: AuditRun; takenOver: boolean }
  | { kind: "busy"; run: AuditRun };

/** One batch's results, committed together with the run's next_batch. */
export interface BatchCommit {
  runId: string;
  owner: string;
  batch: number;
  results: ItemResult[];
  corrections: NewCorrection[];
  /** audit_status to set on the reviewed actions (verified, corrected). */
  statuses: { actionId: string; status: AuditStatus }[];
  insights: Insight[];
  at: number;
}

export interface AuditStore {
  /**
   * Claims the newest unfinished run (paused, failed, killed) for `claim.owner`, unless another
   * live owner is running one. Atomic across processes and machines.
   */
  claimRun(claim: RunClaim): Promise<ClaimResult>;
  /**
   * Creates the run (status running, owned by `claim.owner`) and its items in one transaction,
   * unless an unfinished run appeared meanwhile: then that one is claimed (resumed) or reported
   * busy, and nothing of `run` is written.
   */
  createRun(run: NewAuditRun, items: NewAuditItem[], claim: RunClaim): Promise<ClaimResult>;
  /** Keeps the claim alive; false when the run is no longer this owner's (taken over, ended). */
  heartbeat(runId: string, owner: string, now: number): Promise<boolean>;
  /** Ends this owner's claim with a status (paused, failed); false when it was not the owner's. */
  releaseRun(
    runId: string,
    owner: string,
    status: "paused" | "failed",
    error?: string | null,
  ): Promise<boolean>;
  /** Marks the run done, its still-unaudited window actions passed; returns how many passed. */
  finishRun(runId: string, owner: string, finishedAt: number): Promise<number>;
  /**
   * Writes one batch's verdicts, corrections, audit statuses and insights and advances
   * next_batch, in one transaction; throws RunTakenOverError (writing nothing) when the run is
   * no longer `owner`'s. A verdict already recorded keeps its first value.
   */
  commitBatch(commit: BatchCommit): Promise<void>;

  getRun(id: string): Promise<AuditRun | undefined>;
  /** By full id or a unique prefix of at least 8 characters. */
  findRun(idOrPrefix: string): Promise<AuditRun | undefined>;
  latestRun(): Promise<AuditRun | undefined>;
  lastFinishedRun(): Promise<AuditRun | undefined>;
  /** The newest run that started and did not finish (running, paused, killed, or failed). */
  unfinishedRun(): Promise<AuditRun | undefined>;
  listRuns(limit?: number): Promise<AuditRun[]>;
  /** Items and corrections per run, for lists. */
  runCounts(runIds: string[]): Promise<Map<string, { items: number; corrections: number }>>;

  batchItems(runId: string, batch: number): Promise<AuditItem[]>;
  runItems(runId: string): Promise<AuditItem[]>;
  runCorrections(runId: string): Promise<Correction[]>;
  actionCorrections(actionId: string): Promise<Correction[]>;
  runInsights(runId: string): Promise<Insight[]>;
  /** Every run's look at one action, oldest first. */
  actionItems(actionId: string): Promise<ActionAuditItem[]>;

  /**
   * Records a correction outside a batch (a person's, or a run's replayed); false when this run
   * (or, without a run, this id) already has it.
   */
  insertCorrection(correction: NewCorrection): Promise<boolean>;
  /** Agents with corrections their handler has not applied yet. */
  pendingAgents(): Promise<string[]>;
  pendingCorrections(agent: string): Promise<Correction[]>;
  /** Notes why a correction still waits (no handler yet) without marking it applied. */
  noteWaiting(id: string, note: string): Promise<void>;
  markApplied(id: string, at: number, note: string | null): Promise<void>;
  markApplyFailed(id: string, error: string): Promise<void>;

  /**
   * Not-yet-audited actions of a window, oldest first, without their bodies: read in pages of
   * `pageSize`, so neither engine holds a cursor open between pages.
   */
  candidates(since: number, until: number, pageSize?: number): AsyncIterable<CandidateRow>;
  /** Ids of an agent's actions with this input key, newest first, at most 20 (the same input). */
  sameInputActions(agent: string, inputKey: string): Promise<string[]>;
  /** What one agent spent in one trace: model attempts, their tokens, and the stages' time. */
  traceUsage(traceId: string, agent: string): Promise<TraceUsage>;
  /** Actions since `since` not yet covered by an audit, excluding `exceptAgent`'s own. */
  unauditedCount(since: number, exceptAgent: string): Promise<number>;
  /** (day confidence, verdict) of reviewed items, of one run or of all runs. */
  calibrationPoints(runId: string | null): Promise<{ confidence: number; verdict: Verdict }[]>;
  /**
   * The learning curve: per local day (this process's time zone) of the audited action, the
   * reviewed items and the wrong ones, from `since` on; days without reviews are left out.
   */
  learningCurve(since: number): Promise<LearningDay[]>;
}

/** The run was taken over (its holder was presumed dead) or ended by another process. */
export class RunTakenOverError extends NightshiftError {
  override readonly name = "RunTakenOverError";
  constructor(runId: string, holder: AuditRun | undefined) {
    super(
      `audit run ${runId} is no longer this process's: ${
        holder?.status === "running"
          ? `host ${holder.host ?? "?"} took it over`
          : `it is ${holder?.status ?? "gone"}`
      }; stopping without writing this batch`,
      { status: 409, code: "audit_taken_over" },
    );
  }
}
