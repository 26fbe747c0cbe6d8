import type { Command } from "commander";
import { personName } from "../agents/command-options.js";
import { NightshiftError, NotFoundError } from "../errors.js";
import { importEntries } from "../knowledge/import.js";
import {
  type KnowledgeBase,
  type KnowledgeEntry,
  knowledgeEntryToJson,
  SHARED_SCOPE,
} from "../knowledge/kb.js";
import type { CliContext } from "./context.js";
import { wholeNumber } from "./options.js";
import { count, formatLocalTime, formatTable, printJson } from "./output.js";

interface ScopeFlags {
  scope?: string;
  json?: boolean;
}

/** The person behind a CLI change, for provenance: --by, else the login name. */
export { personName };

/** The knowledge base on the selected ledger engine (SQLite or PostgreSQL). */
async function openKb(context: CliContext): Promise<KnowledgeBase> {
  return (await context.app()).kb;
}

/** Finds the scope of KEY: the --scope given, else the only scope holding it. */
async function resolveScope(
  kb: KnowledgeBase,
  key: string,
  scope: string | undefined,
): Promise<string> {
  if (scope) return scope;
  const scopes = await kb.scopesOf(key);
  if (scopes.length === 1) return scopes[0]!;
  if (scopes.length === 0) {
    throw new NotFoundError(`no knowledge entry with key "${key}"; see \`nightshift kb list\``);
  }
  throw new NightshiftError(
    `key "${key}" exists in scopes ${scopes.join(", ")}; pass --scope to pick one`,
  );
}

const entryColumns = [
  { header: "SCOPE", value: (e: KnowledgeEntry) => e.scope },
  { header: "KEY", value: (e: KnowledgeEntry) => e.key, max: 40 },
  { header: "V", value: (e: KnowledgeEntry) => String(e.version), align: "right" as const },
  {
    header: "UPDATED",
    value: (e: KnowledgeEntry) => formatLocalTime(e.provenance.at),
  },
  {
    header: "BY",
    value: (e: KnowledgeEntry) => `${e.provenance.kind}:${e.provenance.ref}`,
    max: 28,
  },
  {
    header: "CONTENT",
    value: (e: KnowledgeEntry) => (e.deleted ? "(deleted)" : e.content),
    max: 60,
  },
];

function printEntries(entries: KnowledgeEntry[], json: boolean | undefined, empty: string): void {
  if (json) printJson(entries.map(knowledgeEntryToJson));
  else process.stdout.write(`${entries.length ? formatTable(entries, entryColumns) : empty}\n`);
}

/** Embeds what a change left unembedded; a failure is reported, the change itself stands. */
async function embedAfterChange(kb: KnowledgeBase): Promise<void> {
  if (!kb.embedder) return;
  try {
    await kb.embedPending();
  } catch (error) {
    process.stderr.write(
      `nightshift: saved, but not embedded yet (${(error as Error).message}); full-text search finds it now, \`nightshift kb reindex\` embeds it later\n`,
    );
  }
}

function parseData(value: string | undefined): unknown {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(value);
  } catch (error) {
    throw new NightshiftError(`--data is not valid JSON: ${(error as Error).message}`);
  }
}

export function registerKb(program: Command, context: CliContext): void {
  const kb = program.command("kb").description("the knowledge base the agents read (versioned)");

  kb.command("list")
    .description("current entries, by scope and key")
    .option("--scope <scope>", "only this scope (an agent name or shared)")
    .option("--deleted", "include deleted entries")
    .option("--json", "JSON output")
    .action(async (flags: ScopeFlags & { deleted?: boolean }) => {
      const entries = await (await openKb(context)).list({
        ...(flags.scope ? { scope: flags.scope } : {}),
        includeDeleted: flags.deleted ?? false,
      });
      printEntries(entries, flags.json, "no knowledge entries");
    });

  kb.command("search <query...>")
    .description("full-text (and, with an embedder, semantic) search")
    .option("--scope <scope>", "only this scope")
    .option("--agent <agent>", "what this agent sees: its scope and shared")
    .option("--limit <n>", "most hits", wholeNumber("--limit"), 10)
    .option("--json", "JSON output")
    .action(async (words: string[], flags: ScopeFlags & { agent?: string; limit: number }) => {
      const scopes = flags.scope
        ? [flags.scope]
        : flags.agent
          ? [flags.agent, SHARED_SCOPE]
          : undefined;
      const result = await (await openKb(context)).searchDetailed({
        text: words.join(" "),
        ...(scopes ? { scopes } : {}),
        limit: flags.limit,
      });
      if (flags.json) return printJson(result);
      if (result.hits.length === 0) return void process.stdout.write("no matches\n");
      const table = formatTable(result.hits, [
        { header: "SCOPE", value: (h) => h.scope },
        { header: "KEY", value: (h) => h.key, max: 40 },
        { header: "V", value: (h) => String(h.version), align: "right" },
        { header: "SCORE", value: (h) => h.score.toPrecision(3), align: "right" },
        { header: "CONTENT", value: (h) => h.content, max: 70 },
      ]);
      process.stdout.write(`${table}\n`);
    });

  kb.command("show <key>")
    .description("one entry's current version (or --version N)")
    .option("--scope <scope>", "the entry's scope, when the key is in several")
    .option("--version <n>", "an earlier version", wholeNumber("--version"))
    .option("--json", "JSON output")
    .action(async (key: string, flags: ScopeFlags & { version?: number }) => {
      const base = await openKb(context);
      const scope = await resolveScope(base, key, flags.scope);
      const history = await base.history(scope, key);
      const wanted = flags.version ?? history.length;
      const entry = history.find((v) => v.version === wanted);
      if (!entry) throw new NotFoundError(`${scope}/${key} has no version ${wanted}`);
      if (flags.json) return printJson(knowledgeEntryToJson(entry));
      const lines = [
        `${entry.scope}/${entry.key}  v${entry.version} of ${history.length}${entry.deleted ? "  (deleted)" : ""}`,
        `by ${entry.provenance.kind} ${entry.provenance.ref} at ${new Date(entry.provenance.at).toISOString()}${entry.note ? ` (${entry.note})` : ""}`,
        "",
        entry.content,
      ];
      if (entry.data !== null) lines.push("", `data: ${JSON.stringify(entry.data, null, 2)}`);
      process.stdout.write(`${lines.join("\n")}\n`);
    });

  kb.command("history <key>")
    .description("every version of an entry, oldest first")
    .option("--scope <scope>", "the entry's scope, when the key is in several")
    .option("--json", "JSON output")
    .action(async (key: string, flags: ScopeFlags) => {
      const base = await openKb(context);
      const history = await base.history(await resolveScope(base, key, flags.scope), key);
      if (flags.json) return printJson(history.map(knowledgeEntryToJson));
      const table = formatTable(history, [
        ...entryColumns.slice(2),
        { header: "NOTE", value: (e) => e.note ?? "", max: 30 },
      ]);
      process.stdout.write(`${table}\n`);
    });

  registerChanges(kb, context);
}

function registerChanges(kb: Command, context: CliContext): void {
  kb.command("put <key>")
    .description("write a new version of an entry (provenance: you)")
    .requiredOption("--content <text>", "the entry's text")
    .option("--scope <scope>", "an agent name or shared", SHARED_SCOPE)
    .option(
      "--data <json>",
      "structured data, e.g. a finance rule (default: the current version's; null removes it)",
    )
    .option("--by <name>", "who you are (default: your login name)")
    .action(
      async (
        key: string,
        flags: { content: string; scope: string; data?: string; by?: string },
      ) => {
        const base = await openKb(context);
        // Without --data a new text keeps the entry's rule: dropping it silently would change
        // what the agents do while the person only meant to reword the text.
        const current = await base.get(flags.scope, key);
        const kept = flags.data === undefined && current && !current.deleted ? current.data : null;
        const data = flags.data === undefined ? (kept ?? undefined) : parseData(flags.data);
        const entry = await base.put(
          {
            scope: flags.scope,
            key,
            content: flags.content,
            ...(data === undefined ? {} : { data }),
          },
          { kind: "person", ref: personName(flags.by) },
        );
        const note =
          kept !== null ? " (data kept from the previous version; --data null removes it)" : "";
        process.stdout.write(`${entry.scope}/${entry.key} is at v${entry.version}${note}\n`);
        await embedAfterChange(base);
      },
    );

  kb.command("delete <key>")
    .description("delete an entry (a tombstone version; history stays)")
    .option("--scope <scope>", "the entry's scope, when the key is in several")
    .option("--by <name>", "who you are (default: your login name)")
    .action(async (key: string, flags: ScopeFlags & { by?: string }) => {
      const base = await openKb(context);
      const entry = await base.remove(await resolveScope(base, key, flags.scope), key, {
        kind: "person",
        ref: personName(flags.by),
      });
      process.stdout.write(`${entry.scope}/${entry.key} deleted (v${entry.version})\n`);
    });

  kb.command("import <file>")
    .description("import entries from NDJSON or YAML ({scope, key, content, data})")
    .option("--json", "JSON output")
    .action(async (file: string, flags: { json?: boolean }) => {
      const base = await openKb(context);
      const report = await importEntries(base, file);
      if (flags.json) {
        printJson({ ...report, written: report.written.map(knowledgeEntryToJson) });
      } else {
        process.stdout.write(
          `imported ${count(report.written.length, "entry", "entries")} from ${report.file} (${report.unchanged} unchanged)\n`,
        );
      }
      await embedAfterChange(base);
    });

  kb.command("rollback <key>")
    .description("make an earlier version current again (as a new version)")
    .requiredOption("--to <version>", "the version to restore")
    .option("--scope <scope>", "the entry's scope, when the key is in several")
    .option("--by <name>", "who you are (default: your login name)")
    .action(async (key: string, flags: ScopeFlags & { to: string; by?: string }) => {
      const base = await openKb(context);
      const entry = await base.rollback(
        await resolveScope(base, key, flags.scope),
        key,
        wholeNumber("--to")(flags.to),
        {
          kind: "person",
          ref: personName(flags.by),
        },
      );
      process.stdout.write(
        `${entry.scope}/${entry.key} rolled back to v${flags.to} as v${entry.version}\n`,
      );
      await embedAfterChange(base);
    });

  kb.command("revert-run <run>")
    .description("undo every knowledge change one audit run made")
    .option("--by <name>", "who you are (default: your login name)")
    .option("--json", "JSON output")
    .action(async (run: string, flags: { by?: string; json?: boolean }) => {
      const base = await openKb(context);
      // An audit run by its id or a prefix; "wrote no knowledge entries" is for runs that exist.
      const found = await (await context.actionLedger()).audit.findRun(run);
      if (!found && (await base.writtenBy("audit_run", run)).length === 0) {
        throw new NotFoundError(
          `no such run ${run}; \`nightshift audit list\` shows the audit runs`,
        );
      }
      const report = await base.revertRun(found?.id ?? run, {
        kind: "person",
        ref: personName(flags.by),
      });
      if (flags.json) return printJson(report);
      const lines = [
        `reverted ${count(report.reverted.length, "entry", "entries")} written by audit run ${run}`,
      ];
      for (const r of report.reverted) {
        lines.push(
          `  ${r.scope}/${r.key}: v${r.from} → v${r.to}${r.deleted ? " (deleted: the run created it)" : ""}`,
        );
      }
      for (const s of report.skipped) lines.push(`  skipped ${s.scope}/${s.key}: ${s.reason}`);
      process.stdout.write(`${lines.join("\n")}\n`);
      await embedAfterChange(base);
    });

  kb.command("reindex")
    .description("embed entries that have no vector yet (needs models.embedder)")
    .action(async () => {
      const base = await openKb(context);
      if (!base.embedder) {
        throw new NightshiftError(
          "no embedder configured: add models.embedder (e.g. model: nomic-embed-text) to nightshift.yaml",
        );
      }
      const embedded = await base.embedPending();
      process.stdout.write(
        `embedded ${count(embedded, "entry", "entries")} with ${base.embedder.model}\n`,
      );
    });
}
