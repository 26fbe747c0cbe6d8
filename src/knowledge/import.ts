import { readFileSync } from "node:fs";
import { extname, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { NightshiftError } from "../errors.js";
import { type EntryInput, type KnowledgeBase, type KnowledgeEntry, SHARED_SCOPE } from "./kb.js";

const entrySchema = z.strictObject({
  scope: z.string().min(1).default(SHARED_SCOPE),
  key: z.string().min(1),
  content: z.string().min(1),
  data: z.unknown().optional(),
});

export interface ImportReport {
  file: string;
  /** Entries that got a new version. */
  written: KnowledgeEntry[];
  /** Entries that already said exactly this. */
  unchanged: number;
}

/**
 * Reads entries from NDJSON (.ndjson, .jsonl, .json: one object per line) or YAML (.yaml, .yml:
 * a list, or {entries: [...]}). Each entry is {scope?, key, content, data?}; scope defaults to
 * "shared". Every entry is checked before any is written, and an error names the line or item.
 */
export function readEntries(path: string): EntryInput[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new NightshiftError(`cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
  const ext = extname(path).toLowerCase();
  if (ext === ".yaml" || ext === ".yml") return fromYaml(path, text);
  if ([".ndjson", ".jsonl", ".json"].includes(ext)) return fromNdjson(path, text);
  throw new NightshiftError(
    `${path}: unknown file type "${ext}"; use .ndjson/.jsonl (one JSON entry per line) or .yaml`,
  );
}

function fromNdjson(path: string, text: string): EntryInput[] {
  const entries: EntryInput[] = [];
  text.split(/\r?\n/).forEach((line, index) => {
    if (line.trim() === "") return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new NightshiftError(`${path}:${index + 1}: not JSON: ${(error as Error).message}`);
    }
    entries.push(checkEntry(value, `${path}:${index + 1}`));
  });
  return entries;
}

function fromYaml(path: string, text: string): EntryInput[] {
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (error) {
    throw new NightshiftError(`${path}: not valid YAML: ${(error as Error).message}`);
  }
  const list =
    value && typeof value === "object" && !Array.isArray(value) && "entries" in value
      ? (value as { entries: unknown }).entries
      : value;
  if (!Array.isArray(list)) {
    throw new NightshiftError(`${path}: expected a list of entries (or entries: [...])`);
  }
  return list.map((item, index) => checkEntry(item, `${path}: entry ${index + 1}`));
}

function checkEntry(value: unknown, where: string): EntryInput {
  const result = entrySchema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const field = issue.path.map(String).join(".") || "(entry)";
    throw new NightshiftError(`${where}: ${field}: ${issue.message}`);
  }
  const { data, ...rest } = result.data;
  return data === undefined ? rest : { ...rest, data };
}

/** Imports a file in one transaction (all or nothing), with provenance import = the file. */
export async function importEntries(
  kb: KnowledgeBase,
  path: string,
  at?: number,
): Promise<ImportReport> {
  const file = resolve(path);
  const entries = readEntries(file);
  const provenance = { kind: "import" as const, ref: file, ...(at === undefined ? {} : { at }) };
  const results = await kb.putMany(entries, provenance);
  return {
    file,
    written: results.filter((r) => r.changed).map((r) => r.entry),
    unchanged: results.filter((r) => !r.changed).length,
  };
}
