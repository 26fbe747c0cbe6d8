import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import type { ActionRow } from "../actions.js";
import { type BodyRef, type BodyStore, isBodyRef } from "../body-store.js";

/** A body file a SQLite row refers to that the copy could not inline. */
export interface BodyProblem {
  actionId: string;
  column: "request" | "response";
  path: string;
  why: string;
}

/** At most this many bytes of file bodies in one statement: a batch of 30 MB images stays bounded. */
export const INLINE_BATCH_BYTES = 64 * 1024 * 1024;

const BODY_COLUMNS = ["request", "response"] as const;

/**
 * Puts the bodies a SQLite ledger keeps in files (`<ledger>.bodies/`, see BodyStore) back into
 * their rows, as PostgreSQL keeps every body: a file path means nothing to a daemon on another
 * host. Each file is checked against the sha256 and size its reference names; a row whose file
 * is missing or differs is left out (never copied with a dangling reference) and reported, so a
 * run after restoring the file copies it.
 */
export class BodyInliner {
  /** By action id: the rows left out. */
  readonly problems = new Map<string, BodyProblem>();

  constructor(
    /** The SQLite ledger's body files (its path plus ".bodies"); only their paths are used. */
    private readonly files: Pick<BodyStore, "pathOf">,
  ) {}

  /** The rows with their bodies inlined; rows whose body cannot be read are left out. */
  inline(rows: readonly ActionRow[]): ActionRow[] {
    const out: ActionRow[] = [];
    for (const row of rows) {
      const inlined = this.inlineRow(row);
      if (inlined) out.push(inlined);
    }
    return out;
  }

  private inlineRow(row: ActionRow): ActionRow | null {
    let copy = row;
    for (const column of BODY_COLUMNS) {
      const text = row[column];
      if (text === null || !isBodyRef(text)) continue;
      const body = this.read(row.id, column, text);
      if (body === null) return null;
      copy = { ...copy, [column]: body };
    }
    this.problems.delete(row.id);
    return copy;
  }

  private read(actionId: string, column: BodyProblem["column"], text: string): string | null {
    const ref = parseRef(text);
    if (!ref) {
      this.problems.set(actionId, {
        actionId,
        column,
        path: "",
        why: `unreadable reference ${text}`,
      });
      return null;
    }
    const path = this.files.pathOf(ref.sha256);
    const fail = (why: string) => {
      this.problems.set(actionId, { actionId, column, path, why });
      return null;
    };
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      return fail(code === "ENOENT" ? "the body file is missing" : `cannot read it: ${code}`);
    }
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    if (sha256 !== ref.sha256 || bytes.length !== ref.bytes) {
      return fail(
        `the file's sha256 is ${sha256} (${bytes.length} bytes), its row expects ${ref.sha256} (${ref.bytes} bytes)`,
      );
    }
    return bytes.toString("utf8");
  }
}

function parseRef(text: string): BodyRef["$nightshift_body"] | null {
  try {
    const ref = (JSON.parse(text) as BodyRef).$nightshift_body;
    const ok =
      typeof ref?.sha256 === "string" &&
      /^[0-9a-f]{64}$/.test(ref.sha256) &&
      Number.isInteger(ref.bytes);
    return ok ? ref : null;
  } catch {
    return null;
  }
}

/** The bytes a row's body files add to it, from their references (no file is read). */
function fileBytes(row: ActionRow): number {
  let bytes = 0;
  for (const column of BODY_COLUMNS) {
    const text = row[column];
    if (text !== null && isBodyRef(text)) bytes += parseRef(text)?.bytes ?? 0;
  }
  return bytes;
}

/** Consecutive runs of `rows` whose body files add at most `limit` bytes (one row at least). */
export function chunkByBodyBytes(
  rows: readonly ActionRow[],
  limit = INLINE_BATCH_BYTES,
): ActionRow[][] {
  const chunks: ActionRow[][] = [];
  let chunk: ActionRow[] = [];
  let bytes = 0;
  for (const row of rows) {
    const size = fileBytes(row);
    if (chunk.length > 0 && bytes + size > limit) {
      chunks.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push(row);
    bytes += size;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}
