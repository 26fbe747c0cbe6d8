import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type CorpusEntry,
  cents,
  type Format,
  formatOf,
  loadCorpus,
  repoRoot,
} from "../test/fixtures/finance/real-corpus.js";

// Exactness on real exports, measured as a user meets it: each corpus file is imported by the
// built CLI (`npm run build` first) into a fresh NIGHTSHIFT_HOME with no model server reachable,
// and what `finance transactions` and `finance statements` then show is compared with the file's
// known result. A transaction is exact when its date, its amount to the cent and its description
// (the expected text inside the imported description or payee, ignoring case, spaces, digits and
// punctuation) agree.
// `npm run bench -- finance-real [--json] [--only TEXT]`.

const args = process.argv.slice(2);
const jsonOnly = args.includes("--json");
const only = args.includes("--only") ? args[args.indexOf("--only") + 1] : undefined;
const cli = join(repoRoot(), "dist/cli/main.js");

interface Statement {
  reconcile_status: string;
  flags: string[];
}
interface Txn {
  date: string;
  amount_cents: number;
  description: string;
  payee: string | null;
}
interface FileResult {
  file: string;
  format: Format;
  expect: "import" | "refuse";
  kind: string;
  outcome: "imported" | "refused" | "crashed" | "no data";
  /** Imported only once given `--account`, as the CLI asked. */
  neededAccount: boolean;
  message: string;
  statuses: string[];
  expected: number;
  imported: number;
  exact: number;
  wrong: boolean;
  falseRefusal: boolean;
  silentWrong: boolean;
  wrongAccept: boolean;
}

/** A loopback port that nothing listens on, so every model call fails fast. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const address = server.address();
  await new Promise((done) => server.close(done));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

const port = await closedPort();

function run(home: string, cliArgs: string[]): { status: number | null; out: string; err: string } {
  const result = spawnSync(process.execPath, [cli, ...cliArgs], {
    encoding: "utf8",
    timeout: 180_000,
    env: {
      ...process.env,
      NIGHTSHIFT_HOME: home,
      NIGHTSHIFT_PORT: String(port),
      NIGHTSHIFT_UPSTREAM: `http://127.0.0.1:${port}`,
    },
  });
  return { status: result.status, out: result.stdout ?? "", err: result.stderr ?? "" };
}

// Case, spaces, digits and punctuation do not count, so an account number masked inside a
// description ("TRANSFER TO …6789") still matches the file's text; runs of X are masking too
// ("XXXX-XXXX-1234"). Letters and symbols (€, £, <) must come through decoded as printed.
const squash = (s: string | null | undefined) =>
  (s ?? "")
    .toLowerCase()
    .replace(/x{2,}/g, "")
    .replace(/[\s\d\p{P}]/gu, "");

/** Expected transactions matched one-to-one with imported ones; returns how many are exact. */
function countExact(entry: CorpusEntry, got: Txn[]): number {
  const unused = [...got];
  let exact = 0;
  for (const want of entry.expected.transactions) {
    const text = squash(want.description);
    const at = unused.findIndex(
      (t) =>
        t.date === want.date &&
        t.amount_cents === cents(want.amount) &&
        (squash(t.description).includes(text) || squash(t.payee).includes(text)),
    );
    if (at >= 0) {
      unused.splice(at, 1);
      exact++;
    }
  }
  return exact;
}

function evaluate(entry: CorpusEntry): FileResult {
  const base: FileResult = {
    file: entry.name,
    format: formatOf(entry.name),
    expect: entry.expected.expect,
    kind: entry.expected.kind,
    outcome: "no data",
    neededAccount: false,
    message: "",
    statuses: [],
    expected: entry.expected.expect === "import" ? entry.expected.transactions.length : 0,
    imported: 0,
    exact: 0,
    wrong: false,
    falseRefusal: false,
    silentWrong: false,
    wrongAccept: false,
  };
  if (!entry.dataPath) return { ...base, message: "data file not found in any corpus folder" };
  const home = mkdtempSync(join(tmpdir(), "nightshift-finance-real-"));
  try {
    let results = importFile(home, entry.dataPath, []);
    if (typeof results === "string") return { ...base, outcome: "crashed", message: results };
    let failed = results.find((r) => r.status === "failed");
    // A file that names no account is imported into one the user names, as the message asks.
    if (failed?.error?.includes("--account")) {
      base.neededAccount = true;
      results = importFile(home, entry.dataPath, ["--account", "corpus"]);
      if (typeof results === "string") return { ...base, outcome: "crashed", message: results };
      failed = results.find((r) => r.status === "failed");
    }
    if (failed) return refused(base, failed.error ?? "refused");
    const statements = JSON.parse(
      run(home, ["finance", "statements", "--json"]).out,
    ) as Statement[];
    const txns = JSON.parse(run(home, ["finance", "transactions", "--json"]).out) as Txn[];
    return accepted(base, entry, statements, txns);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

type ImportJson = { status: string; error?: string }[];

/** The CLI's `finance import --json` answer, or what it printed when it gave none. */
function importFile(home: string, file: string, extra: string[]): ImportJson | string {
  const imported = run(home, ["finance", "import", file, "--json", ...extra]);
  try {
    return JSON.parse(imported.out) as ImportJson;
  } catch {
    const tail = (imported.err || imported.out).trim().split("\n").slice(-3).join(" ");
    return tail.slice(0, 300);
  }
}

function refused(base: FileResult, message: string): FileResult {
  return {
    ...base,
    outcome: "refused",
    message: message.replace(/\s+/g, " ").slice(0, 300),
    falseRefusal: base.expect === "import",
  };
}

function accepted(
  base: FileResult,
  entry: CorpusEntry,
  statements: Statement[],
  txns: Txn[],
): FileResult {
  const exact = base.expect === "import" ? countExact(entry, txns) : 0;
  const wrong = base.expect === "refuse" || exact < base.expected || txns.length > base.expected;
  const marked = statements.some((s) => s.reconcile_status !== "reconciled" || s.flags.length > 0);
  return {
    ...base,
    outcome: "imported",
    statuses: statements.map((s) => s.reconcile_status + (s.flags.length ? "+flags" : "")),
    imported: txns.length,
    exact,
    wrong,
    // Wrong numbers with nothing to warn the user: neither a flag, a mismatch nor "unchecked".
    silentWrong: wrong && !marked,
    wrongAccept: base.expect === "refuse",
  };
}

function summarize(results: FileResult[]) {
  const sum = (f: (r: FileResult) => number, rs = results) => rs.reduce((n, r) => n + f(r), 0);
  const perFormat = Object.fromEntries(
    (["csv", "ofx", "pdf", "other"] as const).map((format) => {
      const rs = results.filter((r) => r.format === format);
      return [
        format,
        { files: rs.length, exact: sum((r) => r.exact, rs), total: sum((r) => r.expected, rs) },
      ];
    }),
  );
  const statuses = results.flatMap((r) => r.statuses.map((s) => s.replace("+flags", "")));
  const count = (b: (r: FileResult) => boolean) => results.filter(b).length;
  return {
    bench: "finance-real",
    files: results.length,
    files_without_data: count((r) => r.outcome === "no data"),
    transactions_exact: sum((r) => r.exact),
    transactions_total: sum((r) => r.expected),
    per_format: perFormat,
    statements_reconciled: statuses.filter((s) => s === "reconciled").length,
    statements_flagged: statuses.filter((s) => s === "mismatch").length,
    statements_unchecked: statuses.filter((s) => s === "unchecked").length,
    statements_with_flags: count((r) => r.statuses.some((s) => s.endsWith("+flags"))),
    false_refusals: count((r) => r.falseRefusal),
    silent_wrong_statements: count((r) => r.silentWrong),
    wrongly_accepted: count((r) => r.wrongAccept),
    refusals_expected: count((r) => r.expect === "refuse"),
    refusals_correct: count((r) => r.expect === "refuse" && r.outcome === "refused"),
    crashes: count((r) => r.outcome === "crashed"),
    files_needing_account: count((r) => r.neededAccount),
    files_all_exact: count((r) => r.expect === "import" && !r.wrong && r.outcome === "imported"),
  };
}

function table(results: FileResult[]): string {
  const rows = results.map((r) => [
    r.file,
    r.format,
    r.expect,
    r.outcome + (r.neededAccount ? "*" : ""),
    r.statuses.join(",") || "-",
    r.expect === "import"
      ? `${r.exact}/${r.expected}${r.imported > r.expected ? ` (+${r.imported - r.expected})` : ""}`
      : "-",
    [
      r.falseRefusal && "FALSE REFUSAL",
      r.silentWrong && "SILENT WRONG",
      r.wrongAccept && "WRONGLY ACCEPTED",
      r.message,
    ]
      .filter(Boolean)
      .join(": ")
      .slice(0, 110),
  ]);
  const header = ["FILE", "FMT", "EXPECT", "GOT", "STATEMENT", "EXACT", "NOTE"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 6 ? c : c.padEnd(widths[i]!))).join("  ");
  return [line(header), ...rows.map(line)].join("\n");
}

const pct = (a: number, b: number) => (b ? `${((100 * a) / b).toFixed(1)} %` : "-");
const corpus = loadCorpus().filter((e) => !only || e.name.includes(only));
const results: FileResult[] = [];
for (const entry of corpus) {
  results.push(evaluate(entry));
  if (!jsonOnly)
    process.stderr.write(
      `\r${results.length}/${corpus.length} ${entry.name.slice(0, 60).padEnd(60)}`,
    );
}
if (!jsonOnly) process.stderr.write("\n");
const s = summarize(results);
if (jsonOnly) {
  process.stdout.write(`${JSON.stringify({ ...s, per_file: results }, null, 2)}\n`);
} else {
  const f = s.per_format;
  process.stdout.write(
    [
      table(results),
      "",
      `files: ${s.files} (${s.files_without_data} without their data file; ${s.files_needing_account} asked for --account and were given one, marked *)`,
      `transactions exact: ${s.transactions_exact}/${s.transactions_total} (${pct(s.transactions_exact, s.transactions_total)}); CSV ${f.csv!.exact}/${f.csv!.total}, OFX ${f.ofx!.exact}/${f.ofx!.total}, PDF ${f.pdf!.exact}/${f.pdf!.total}`,
      `files with every transaction exact: ${s.files_all_exact}/${s.files - s.refusals_expected}`,
      `statements: ${s.statements_reconciled} reconciled, ${s.statements_flagged} flagged (mismatch), ${s.statements_unchecked} unchecked; ${s.statements_with_flags} files with statement flags`,
      `false refusals: ${s.false_refusals}; silent wrong statements: ${s.silent_wrong_statements}; wrongly accepted: ${s.wrongly_accepted}; refusals right ${s.refusals_correct}/${s.refusals_expected}; crashes: ${s.crashes}`,
      JSON.stringify(s),
      "",
    ].join("\n"),
  );
}
