import type { ImportProgress } from "../finance/import-progress.js";

/** Files smaller than this import in about a second: no progress lines for them. */
const MIN_ROWS = 10_000;

export interface ProgressStream {
  isTTY?: boolean | undefined;
  write(text: string): unknown;
}

/**
 * Progress of a large import on stderr (stdout stays the result, JSON with --json): on a
 * terminal one line rewritten at each percent; in a pipe or log a line per 10 %.
 */
export function importProgressPrinter(
  stream: ProgressStream = process.stderr,
): ((progress: ImportProgress) => void) & { done(): void } {
  const tty = stream.isTTY === true;
  let last = "";
  let open = false;
  const finish = () => {
    if (open) stream.write("\n");
    open = false;
  };
  const print = (progress: ImportProgress) => {
    if (progress.phase === "parse") {
      if (progress.lines < MIN_ROWS) return;
      finish();
      const mb = (progress.bytes / 1e6).toFixed(1);
      stream.write(`${progress.file}: parsing ${thousands(progress.lines)} lines (${mb} MB)…\n`);
      return;
    }
    if (progress.total < MIN_ROWS) return;
    const percent = Math.floor((100 * progress.done) / progress.total);
    const key = `${progress.file}:${tty ? percent : Math.floor(percent / 10)}`;
    if (key === last) return;
    last = key;
    const line = `${progress.file}: storing: ${thousands(progress.done)} of ${thousands(progress.total)} rows (${percent}%)`;
    if (!tty) return void stream.write(`${line}\n`);
    stream.write(`\r\x1b[2K${line}`);
    open = true;
    if (progress.done === progress.total) finish();
  };
  return Object.assign(print, { done: finish });
}

function thousands(n: number): string {
  return n.toLocaleString("en-US");
}
