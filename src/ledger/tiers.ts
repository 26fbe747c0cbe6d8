import { createHash } from "node:crypto";
import type {
  AggregateRow,
  AggregateSourceRow,
  CompressedFields,
  CompressSourceRow,
} from "./stores/retention.js";

/**
 * What each retention tier keeps. Detailed rows are as logged; compressed rows keep a short
 * summary of input and output and the sha256 of each full body; aggregated rows become one row
 * per UTC day x agent x action_type whose statistics merge exactly.
 */

/** Characters kept of the last user message and of the reply. */
export const SUMMARY_CHARS = 200;
/** A meta field whose JSON is longer than this is dropped when the row is compressed. */
export const META_FIELD_MAX_CHARS = 512;

export function sha256(text: string | null): string | null {
  return text === null ? null : createHash("sha256").update(text).digest("hex");
}

const NEEDS_COLLAPSE = /[\t\n\r\f\v\u00a0\u2028\u2029]| {2}/;

export function clip(text: string, max = SUMMARY_CHARS): string {
  // Collapse whitespace in a prefix only: bodies run to many KB and only ~200 characters stay.
  // Most prefixes have nothing to collapse, and a test is far cheaper than a replace.
  const prefix = text.slice(0, max + 64);
  const flat = (NEEDS_COLLAPSE.test(prefix) ? prefix.replace(/\s+/g, " ") : prefix).trim();
  if (flat.length <= max && text.length <= max + 64) return flat;
  let cut = Math.min(flat.length, max - 1);
  // Never split a surrogate pair: a clipped emoji must not become a lone half.
  const last = flat.charCodeAt(cut - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut -= 1;
  return `${flat.slice(0, cut)}…`;
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // A body that is not JSON (a plain prompt logged as text) is summarized as it is.
    return text;
  }
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** Text of a chat message's content: a string, or OpenAI's array of typed parts. */
function contentText(content: unknown): string | undefined {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    const parts = content
      .map((part) => asRecord(part)?.text)
      .filter((text): text is string => typeof text === "string");
    return parts.length ? parts.join(" ") : undefined;
  }
  return undefined;
}

/** The last user message of a chat request, the prompt of a generate call, or the body itself. */
export function summarizeRequest(text: string | null): string | null {
  if (text === null) return null;
  const body = parse(text);
  const record = asRecord(body);
  if (record) {
    const messages = Array.isArray(record.messages) ? record.messages : [];
    for (let i = messages.length - 1; i >= 0; i--) {
      const message = asRecord(messages[i]);
      const content = message?.role === "user" ? contentText(message.content) : undefined;
      if (content !== undefined) return clip(content);
    }
    for (const key of ["prompt", "input"]) {
      const value = record[key];
      if (typeof value === "string") return clip(value);
      if (Array.isArray(value)) return clip(`[${value.length} inputs] ${JSON.stringify(value)}`);
    }
  }
  return clip(typeof body === "string" ? body : text);
}

/** The reply text of an Ollama or OpenAI response, or the body itself (a stage's output). */
export function summarizeResponse(text: string | null): string | null {
  if (text === null) return null;
  const body = parse(text);
  const record = asRecord(body);
  if (record) {
    const message = contentText(asRecord(record.message)?.content);
    if (message !== undefined) return clip(message);
    if (typeof record.response === "string") return clip(record.response);
    const choice = asRecord(Array.isArray(record.choices) ? record.choices[0] : undefined);
    const choiceText = contentText(asRecord(choice?.message)?.content) ?? choice?.text;
    if (typeof choiceText === "string") return clip(choiceText);
    const embeddings = record.embeddings ?? record.embedding ?? record.data;
    if (Array.isArray(embeddings)) return `[${embeddings.length} embeddings]`;
  }
  return clip(typeof body === "string" ? body : text);
}

/** Meta without its bulky fields (a copied prompt, a large check result); small ones stay. */
export function trimMeta(text: string | null): string | null {
  if (text === null || text.length <= META_FIELD_MAX_CHARS) return text;
  const record = asRecord(parse(text));
  if (!record) return null;
  const kept: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record)) {
    if (JSON.stringify(value).length <= META_FIELD_MAX_CHARS) kept[key] = value;
  }
  return JSON.stringify(kept);
}

export function compressRow(row: CompressSourceRow, now: number): CompressedFields {
  return {
    key: row.key,
    startedAt: row.started_at,
    requestSummary: summarizeRequest(row.request),
    responseSummary: summarizeResponse(row.response),
    requestSha256: sha256(row.request),
    responseSha256: sha256(row.response),
    reasoningSha256: sha256(row.reasoning),
    meta: trimMeta(row.meta),
    compressedAt: now,
  };
}

/** The aggregate table's columns, in order. */
export const AGGREGATE_COLUMNS = [
  "day",
  "agent",
  "action_type",
  "count",
  "error_count",
  "corrected_count",
  "flagged_count",
  "unaudited_count",
  "confidence_count",
  "confidence_min",
  "confidence_max",
  "confidence_sum",
  "confidence_sum_sq",
  "tokens_in",
  "tokens_out",
  "latency_count",
  "latency_min",
  "latency_max",
  "latency_sum",
  "latency_sum_sq",
  "first_started_at",
  "last_started_at",
  "updated_at",
] as const;

/** The columns that merge by sum; the others by min, max, or the newer value. */
export const SUMMED_AGGREGATE_COLUMNS: ReadonlySet<string> = new Set<string>([
  "count",
  "error_count",
  "corrected_count",
  "flagged_count",
  "unaudited_count",
  "confidence_count",
  "confidence_sum",
  "confidence_sum_sq",
  "tokens_in",
  "tokens_out",
  "latency_count",
  "latency_sum",
  "latency_sum_sq",
]);

/** The UTC day an action belongs to, as YYYY-MM-DD. */
export function dayOf(startedAt: number): string {
  return new Date(startedAt).toISOString().slice(0, 10);
}

function emptyAggregate(row: AggregateSourceRow, now: number): AggregateRow {
  return {
    day: dayOf(row.started_at),
    agent: row.agent,
    action_type: row.action_type,
    count: 0,
    error_count: 0,
    corrected_count: 0,
    flagged_count: 0,
    unaudited_count: 0,
    confidence_count: 0,
    confidence_min: null,
    confidence_max: null,
    confidence_sum: 0,
    confidence_sum_sq: 0,
    tokens_in: 0,
    tokens_out: 0,
    latency_count: 0,
    latency_min: null,
    latency_max: null,
    latency_sum: 0,
    latency_sum_sq: 0,
    first_started_at: row.started_at,
    last_started_at: row.started_at,
    updated_at: now,
  };
}

const minOf = (a: number | null, b: number) => (a === null ? b : Math.min(a, b));
const maxOf = (a: number | null, b: number) => (a === null ? b : Math.max(a, b));

function addRow(into: AggregateRow, row: AggregateSourceRow): void {
  into.count += 1;
  if (row.status === "error") into.error_count += 1;
  if (row.corrected) into.corrected_count += 1;
  if (row.flagged) into.flagged_count += 1;
  if (row.audit_status === null || row.audit_status === "in_review") into.unaudited_count += 1;
  if (row.confidence !== null) {
    into.confidence_count += 1;
    into.confidence_min = minOf(into.confidence_min, row.confidence);
    into.confidence_max = maxOf(into.confidence_max, row.confidence);
    into.confidence_sum += row.confidence;
    into.confidence_sum_sq += row.confidence * row.confidence;
  }
  into.tokens_in += row.tokens_in ?? 0;
  into.tokens_out += row.tokens_out ?? 0;
  if (row.latency_ms !== null) {
    into.latency_count += 1;
    into.latency_min = minOf(into.latency_min, row.latency_ms);
    into.latency_max = maxOf(into.latency_max, row.latency_ms);
    into.latency_sum += row.latency_ms;
    into.latency_sum_sq += row.latency_ms * row.latency_ms;
  }
  into.first_started_at = Math.min(into.first_started_at, row.started_at);
  into.last_started_at = Math.max(into.last_started_at, row.started_at);
}

/** Folds rows into one aggregate per day x agent x action_type, ready to merge into the table. */
export function aggregateRows(rows: readonly AggregateSourceRow[], now: number): AggregateRow[] {
  const groups = new Map<string, AggregateRow>();
  for (const row of rows) {
    const key = `${dayOf(row.started_at)}\u0000${row.agent}\u0000${row.action_type}`;
    let group = groups.get(key);
    if (!group) {
      group = emptyAggregate(row, now);
      groups.set(key, group);
    }
    addRow(group, row);
  }
  return [...groups.values()];
}

/** Mean and standard deviation from a merged aggregate's count, sum and sum of squares. */
export function meanAndDeviation(
  count: number,
  sum: number,
  sumSq: number,
): { mean: number | null; stddev: number | null } {
  if (count === 0) return { mean: null, stddev: null };
  const mean = sum / count;
  return { mean, stddev: Math.sqrt(Math.max(0, sumSq / count - mean * mean)) };
}
