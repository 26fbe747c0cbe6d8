import { randomUUID } from "node:crypto";

let lastMs = 0;
let sequence = 0;

/**
 * A UUIDv7: time-ordered, so ids sort by creation and inserts append to the primary-key index.
 * Ids are made in-process, not by the database, because the gateway must send an action's id in
 * the response headers before the action (which ends with the stream) is written.
 */
export function newActionId(now = Date.now()): string {
  if (now === lastMs) {
    sequence = (sequence + 1) & 0xfff;
  } else {
    lastMs = now;
    sequence = Math.floor(Math.random() * 0x800);
  }
  // randomUUID draws from a pooled entropy cache, many times cheaper than randomBytes per id; its
  // variant bits and 62 random bits are kept, and the time, version and sequence are laid over it.
  const random = randomUUID();
  const time = now.toString(16).padStart(12, "0");
  const seq = (0x7000 | sequence).toString(16);
  return `${time.slice(0, 8)}-${time.slice(8)}-${seq}-${random.slice(19)}`;
}

/**
 * A W3C trace id: 32 lowercase hex digits, a UUIDv7's. Time-ordered like action ids because
 * retention deletes actions by age: with random trace ids each pruned row dirtied its own page of
 * the trace index, which made aggregation 2.3x slower. The rightmost 62 bits stay random, more
 * than the 7 random bytes that Trace Context Level 2 asks of a trace id.
 */
export function newTraceId(now = Date.now()): string {
  return newActionId(now).replaceAll("-", "");
}
