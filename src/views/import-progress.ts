import type { ImportProgress } from "../finance/import-progress.js";

/** Files smaller than this import in about a second: no progress lines for them. */
const MIN_ROWS = 10_000;

export interface ProgressStream {
  isTTY?: boolean | undefined;
  write(text: string): unknown;
}

/**
 * Progress of a large import on stderr (stdout stays the result, JSON with --json): on a
 * terminal one line rewritten at each percent; in a pipe or log a line per 10 % of each step.
 */
export function importProgressPrinter(
  stream: ProgressStream = process.stderr,
): ((progress: ImportProgress) => void) & { done(): void } {
  const tty = stream.isTTY === true;
  const small = new Set<string>();
  let last = "";
  let open = false;
  const finish = () => {
    if (open) stream.write("\n");
    open = false;
  };
  const print = (progress: ImportProgress) => {
    if (progress.phase === "parse") {
      if (progress.lines < MIN_ROWS) return void small.add(progress.file);
      finish();
      const mb = (progress.bytes / 1e6).toFixed(1);
      stream.write(`${progress.file}: parsing ${thousands(progress.lines)} lines (${mb} MB)…\n`);
      return;
    }
    if (progress.phase === "store" ? progress.total < MIN_ROWS : small.has(progress.file)) return;
    const { done, total } = progress;
    const percent = total > 0 ? Math.floor((100 * done) / total) : 100;
    const step = progress.phase === "store" ? "store" : progress.step;
    const key = `${progress.file}:${step}:${tty ? percent : Math.floor(percent / 10)}`;
    if (key === last) return;
    last = key;
    const line = `${progress.file}: ${describeStep(progress)} (${percent}%)`;
    if (!tty) return void stream.write(`${line}\n`);
    stream.write(`\r\x1b[2K${line}`);
    open = true;
    if (done === total) finish();
  };
  return Object.assign(print, { done: finish });
}

/** "storing: 500 of 1,000 rows", "splitting into rows: 2.1 of 4.2 MB", ... */
function describeStep(progress: Exclude<ImportProgress, { phase: "parse" }>): string {
  const { done, total } = progress;
  if (progress.phase === "store") return `storing: ${thousands(done)} of ${thousands(total)} rows`;
  switch (progress.step) {
    case "split":
      return `splitting into rows: ${(done / 1e6).toFixed(1)} of ${(total / 1e6).toFixed(1)} MB`;
    case "columns":
      return `finding the layout: ${done} of ${total} columns`;
    case "rows":
      return `reading dates and amounts: ${thousands(done)} of ${thousands(total)} rows`;
  }
}

function thousands(n: number): string {
  return n.toLocaleString("en-US");
}
