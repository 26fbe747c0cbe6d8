import { createHash } from "node:crypto";

/**
 * Deeper values are not stored as they are: JSON.stringify, and every later reader that walks
 * the value recursively (the API's reply, the audit's prompt), overflows the stack somewhere past
 * a few thousand levels, and no real request nests a hundred.
 */
export const MAX_STORED_DEPTH = 256;

/** What a column holds for a value that could not be kept: why, and what it was. */
export interface Unstorable {
  $nightshift_unstorable: { error: string; sha256: string | null; bytes: number | null };
}

/**
 * The JSON text to store for an action's body, or null. Never throws: a value too deep, cyclic,
 * holding a BigInt or a throwing toJSON is replaced by a marker naming the problem with the
 * SHA-256 and size of what could be read of it, so one hostile request cannot fail the batch
 * it is written in (and, retried, every batch after it).
 */
export function storableJson(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (deeperThan(value, MAX_STORED_DEPTH)) {
    return degraded(value, `nested deeper than ${MAX_STORED_DEPTH} levels; not stored`);
  }
  try {
    const text = JSON.stringify(value);
    return text === undefined ? null : text;
  } catch (error) {
    return degraded(value, `cannot be stored as JSON: ${(error as Error)?.message ?? error}`);
  }
}

function degraded(value: unknown, error: string): string {
  return JSON.stringify(unstorableMarker(value, error));
}

/** The marker kept in place of a value that could not be stored. */
export function unstorableMarker(value: unknown, error: string): Unstorable {
  if (isUnstorable(value)) return value;
  return { $nightshift_unstorable: { error, ...digestOf(value) } };
}

function isUnstorable(value: unknown): value is Unstorable {
  return typeof value === "object" && value !== null && "$nightshift_unstorable" in value;
}

/** Iterative, so depth costs heap, not stack; stops as soon as the limit is passed (or a cycle). */
function deeperThan(root: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[root, 1]];
  while (stack.length > 0) {
    const [value, depth] = stack.pop()!;
    if (typeof value !== "object" || value === null) continue;
    if (depth > limit) return true;
    const children = Array.isArray(value) ? value : Object.values(value);
    for (const child of children) {
      if (typeof child === "object" && child !== null) stack.push([child, depth + 1]);
    }
  }
  return false;
}

/**
 * SHA-256 and byte size of the value's JSON, computed without recursion (depth is what broke
 * JSON.stringify). Cycles and unserializable leaves make the digest unavailable (null).
 */
function digestOf(root: unknown): { sha256: string | null; bytes: number | null } {
  const hash = createHash("sha256");
  let bytes = 0;
  const emit = (text: string) => {
    hash.update(text);
    bytes += Buffer.byteLength(text);
  };
  try {
    walk(root, emit);
    return { sha256: hash.digest("hex"), bytes };
  } catch {
    return { sha256: null, bytes: null };
  }
}

type Step = { value: unknown } | { text: string };

function walk(root: unknown, emit: (text: string) => void): void {
  const stack: Step[] = [{ value: root }];
  const open = new Set<object>();
  let steps = 0;
  while (stack.length > 0) {
    if (++steps > 50_000_000) throw new Error("too large to digest");
    const step = stack.pop()!;
    if ("text" in step) {
      emit(step.text);
      continue;
    }
    const value = step.value;
    if (typeof value !== "object" || value === null) {
      const leaf = JSON.stringify(value);
      emit(leaf === undefined ? "null" : leaf);
      continue;
    }
    if (open.has(value)) throw new Error("cycle");
    open.add(value);
    const array = Array.isArray(value);
    const entries = array ? value.map((v) => [null, v] as const) : Object.entries(value);
    const parts: Step[] = [{ text: array ? "[" : "{" }];
    entries.forEach(([key, child], i) => {
      if (i > 0) parts.push({ text: "," });
      if (key !== null) parts.push({ text: `${JSON.stringify(key)}:` });
      parts.push({ value: child });
    });
    parts.push({ text: array ? "]" : "}" });
    for (let i = parts.length - 1; i >= 0; i--) stack.push(parts[i]!);
  }
}
