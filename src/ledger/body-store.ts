import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Clock, systemClock } from "../clock.js";

/** The JSON a large body's column holds instead of the body: where to find it and how to check it. */
export interface BodyRef {
  $nightshift_body: { sha256: string; bytes: number };
}

const REF_PREFIX = '{"$nightshift_body":';

/**
 * Large request and response bodies (images in base64, long documents) kept as files beside the
 * ledger, named by their SHA-256: a 30 MB chat is one file, not a 30 MB row that every scan of
 * the table and every page of /v0/actions would drag through memory, and the same image sent
 * twice is stored once. The row keeps a small reference; reads resolve it transparently.
 * Files are written before the row that names them commits, so a kill -9 can leave an
 * unreferenced file, never a row whose body is missing. A prune deletes the files no remaining
 * row refers to (sqlite/body-collect.ts); a file reused here gets a fresh modification time
 * first, which is how the prune knows to leave a file whose row may not have committed yet.
 */
export class BodyStore {
  constructor(
    readonly dir: string,
    /** Bodies of more bytes than this go to a file. */
    readonly inlineBytes: number,
    private readonly clock: Clock = systemClock,
  ) {}

  /** The column text for a serialized body: itself, or a reference to the file now holding it. */
  store(json: string): string {
    if (json.length * 3 <= this.inlineBytes || Buffer.byteLength(json) <= this.inlineBytes) {
      return json;
    }
    const bytes = Buffer.from(json, "utf8");
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    const path = this.pathOf(sha256);
    if (!this.touch(path)) {
      mkdirSync(join(this.dir, sha256.slice(0, 2)), { recursive: true, mode: 0o700 });
      const temp = `${path}.${process.pid}.tmp`;
      writeFileSync(temp, bytes, { mode: 0o600 });
      renameSync(temp, path);
    }
    const ref: BodyRef = { $nightshift_body: { sha256, bytes: bytes.length } };
    return JSON.stringify(ref);
  }

  /** The body a column's text stands for, read from its file if it is a reference. */
  load(text: string): unknown {
    const value: unknown = JSON.parse(text);
    if (!text.startsWith(REF_PREFIX)) return value;
    const { sha256, bytes } = (value as BodyRef).$nightshift_body;
    try {
      return JSON.parse(readFileSync(this.pathOf(sha256), "utf8"));
    } catch (error) {
      // The row stays readable; what is missing is said where the body would be.
      return {
        $nightshift_body: { sha256, bytes, error: `cannot read the body file: ${String(error)}` },
      };
    }
  }

  /** Marks an existing file as in use now; false when there is none (or a prune just took it). */
  private touch(path: string): boolean {
    const now = this.clock.now() / 1000;
    try {
      utimesSync(path, now, now);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
      throw error;
    }
  }

  pathOf(sha256: string): string {
    return join(this.dir, sha256.slice(0, 2), `${sha256}.json`);
  }
}

/** The sha256 of the body file a column's text refers to, if it is a reference. */
export function bodyRefSha256(text: string | null): string | undefined {
  if (text === null || !text.startsWith(REF_PREFIX)) return undefined;
  try {
    const sha256 = (JSON.parse(text) as BodyRef).$nightshift_body?.sha256;
    return typeof sha256 === "string" && /^[0-9a-f]{64}$/.test(sha256) ? sha256 : undefined;
  } catch {
    return undefined;
  }
}

/** What a reference column starts with, for queries that look for references. */
export const BODY_REF_PREFIX = REF_PREFIX;

/** Whether a column's text is a reference to a body file (for listings that do not read it). */
export function isBodyRef(text: string): boolean {
  return text.startsWith(REF_PREFIX);
}
