/**
 * How far an import has come, for a person watching a large file: the parse (one step, since
 * the parser reads the whole file at once) and then each stored transaction.
 */
export type ImportProgress =
  | { phase: "parse"; file: string; bytes: number; lines: number }
  | { phase: "store"; file: string; done: number; total: number };

export type ImportProgressListener = (progress: ImportProgress) => void;

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
