import type { DecisionRecord, GpuLease, JobRun, RunMode, RunStatus } from "./stores/scheduler.js";

/**
 * The scheduler's rows as both engines return them (the same snake_case columns; JSON as text,
 * times as int8 read back as numbers), mapped to the store's types in one place.
 */
export interface RunRow {
  id: string;
  job: string;
  mode: RunMode;
  status: RunStatus;
  holder: string | null;
  /** 0/1 in SQLite, a boolean in PostgreSQL. */
  forced: number | boolean;
  attempts: number;
  started_at: number;
  heartbeat_at: number;
  finished_at: number | null;
  checkpoint: string | null;
  checkpoint_at: number | null;
  summary: string | null;
  error: string | null;
  last_log: string | null;
}

export interface DecisionRow {
  id: number;
  at: number;
  job: string;
  run_id: string | null;
  decision: DecisionRecord["decision"];
  reason: string;
  details: string | null;
}

export interface LeaseRow {
  gpu: number;
  holder: string;
  job: string;
  run_id: string | null;
  acquired_at: number;
  heartbeat_at: number;
  expires_at: number;
}

export function toRun(row: RunRow): JobRun {
  return {
    id: row.id,
    job: row.job,
    mode: row.mode,
    status: row.status,
    holder: row.holder,
    forced: row.forced === 1 || row.forced === true,
    attempts: row.attempts,
    startedAt: row.started_at,
    heartbeatAt: row.heartbeat_at,
    finishedAt: row.finished_at,
    checkpoint: row.checkpoint === null ? null : JSON.parse(row.checkpoint),
    checkpointAt: row.checkpoint_at,
    summary: row.summary ? (JSON.parse(row.summary) as Record<string, unknown>) : null,
    error: row.error,
    lastLog: row.last_log,
  };
}

export function toDecision(row: DecisionRow): DecisionRecord {
  return {
    id: row.id,
    at: row.at,
    job: row.job,
    runId: row.run_id,
    decision: row.decision,
    reason: row.reason,
    details: row.details ? (JSON.parse(row.details) as Record<string, unknown>) : null,
  };
}

export function toLease(row: LeaseRow): GpuLease {
  return {
    gpu: row.gpu,
    holder: row.holder,
    job: row.job,
    runId: row.run_id,
    acquiredAt: row.acquired_at,
    heartbeatAt: row.heartbeat_at,
    expiresAt: row.expires_at,
  };
}

export function jsonOrNull(value: Record<string, unknown> | null | undefined): string | null {
  return value ? JSON.stringify(value) : null;
}

/**
 * Text a job produced (a command's output tail in a log line or error) may hold NUL bytes, which
 * PostgreSQL text refuses; both engines store U+FFFD in their place, so they read back alike.
 */
export function storableText(value: string): string;
export function storableText(value: string | null): string | null;
export function storableText(value: string | null): string | null {
  return value === null ? null : value.replaceAll("\u0000", "\uFFFD");
}
