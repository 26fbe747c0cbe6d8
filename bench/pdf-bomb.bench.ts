import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { readPdfLinesIsolated } from "../src/finance/import/pdf-worker.js";
import { bombPdf, deepPdf } from "../test/hardening/pdf-bombs.js";

/**
 * `nightshift finance import` of hostile PDFs, as a user would run it: a 4 MB file whose stream
 * inflates to 4 GB, and a 600 KB file nested 300,000 levels. Each import runs in its own process;
 * its peak RSS (main thread and the PDF worker together) is read at exit. Goals: refused, peak
 * RSS <= 512 MB, refused within 10 s.
 */

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const REPORT_RSS =
  'data:text/javascript,process.on("exit",()=>process.stderr.write("MAXRSS_KB "+process.resourceUsage().maxRSS+"\\n"))';
const work = mkdtempSync(join(tmpdir(), "nightshift-pdf-bomb-"));
const results: Record<string, unknown>[] = [];
try {
  for (const [name, bytes] of [
    ["bomb-4gb.pdf", bombPdf(4096)],
    ["deep-300k.pdf", deepPdf(300_000)],
  ] as const) {
    const file = join(work, name);
    writeFileSync(file, bytes);
    const started = performance.now();
    const run = spawnSync(
      process.execPath,
      ["--import", "tsx", "--import", REPORT_RSS, "src/cli/main.ts", "finance", "import", file],
      { cwd: ROOT, env: { ...process.env, NIGHTSHIFT_HOME: join(work, "home") }, encoding: "utf8" },
    );
    const seconds = (performance.now() - started) / 1000;
    const rssKb = Number(/MAXRSS_KB (\d+)/.exec(run.stderr)?.[1] ?? Number.NaN);
    // The reader alone, in this process: the refusal without the CLI's start-up.
    const inProcess = performance.now();
    await readPdfLinesIsolated(bytes, name).catch(() => undefined);
    const readerSeconds = (performance.now() - inProcess) / 1000;
    results.push({
      file: name,
      file_bytes: bytes.length,
      exit_code: run.status,
      refused: run.status !== 0 && /cannot import/.test(run.stderr),
      message:
        run.stderr.split("\n").find((l) => l.includes("cannot import")) ?? run.stderr.slice(0, 300),
      stack_trace: /\n\s+at /.test(run.stderr),
      seconds_to_refuse: Math.round(seconds * 100) / 100,
      reader_seconds_to_refuse: Math.round(readerSeconds * 100) / 100,
      peak_rss_mb: Math.round(rssKb / 1024),
    });
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
process.stdout.write(`${JSON.stringify({ bench: "pdf-bomb", results }, null, 2)}\n`);
