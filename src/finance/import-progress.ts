/**
 * How far an import has come, for a person watching a large file: the parse starting, then
 * each step of reading a CSV (see ReadStep), then each stored transaction.
 */
export type ImportProgress =
  | { phase: "parse"; file: string; bytes: number; lines: number }
  | { phase: "read"; file: string; step: ReadStep; done: number; total: number }
  | { phase: "store"; file: string; done: number; total: number };

/**
 * The steps of reading a CSV, in order: splitting the text into rows (`done`/`total` in bytes),
 * profiling its columns to find the layout (in columns), reading each row's date and amount (in
 * rows).
 */
export type ReadStep = "split" | "columns" | "rows";

export type ImportProgressListener = (progress: ImportProgress) => void;

/** Told how far one read step has come; called freely (per row), it passes on only 1 % steps. */
export type ReadProgress = (step: ReadStep, done: number, total: number) => void;

/** Store progress is reported this many times over a statement at most (every 1 %). */
const STORE_STEPS = 100;

/** Lines in a text file: cheap next to parsing it (one byte scan, no strings made). */
export function countLines(bytes: Uint8Array): number {
  let lines = 0;
  let at = bytes.indexOf(10);
  while (at !== -1) {
    lines++;
    at = bytes.indexOf(10, at + 1);
  }
  return bytes.length > 0 && bytes[bytes.length - 1] !== 10 ? lines + 1 : lines;
}

/**
 * A ReadProgress for one file that tells the listener each time a step reaches another whole
 * percent, and at its end: a hundred calls per step at most, however many rows.
 */
export function readProgress(file: string, listener: ImportProgressListener): ReadProgress {
  let last = "";
  return (step, done, total) => {
    const percent = total > 0 ? Math.floor((100 * done) / total) : 100;
    const key = `${step}:${percent}`;
    if (key === last) return;
    last = key;
    listener({ phase: "read", file, step, done, total });
  };
}

/**
 * A callback for each stored transaction that tells the listener only every 1 % and at the
 * end, so a million-row import makes about a hundred calls, not a million.
 */
export function storeProgress(
  file: string,
  total: number,
  listener: ImportProgressListener | undefined,
): (done: number) => void {
  if (!listener) return () => {};
  const every = Math.max(1, Math.ceil(total / STORE_STEPS));
  return (done) => {
    if (done % every === 0 || done === total) listener({ phase: "store", file, done, total });
  };
}
