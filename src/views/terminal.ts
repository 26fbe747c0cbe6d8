import { describeError, isNightshiftError } from "../errors.js";

// What a command shows on the terminal, for the CLI and the agents' own commands alike.

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Expected errors become one stderr line; anything else is a bug and keeps its stack. */
export function reportError(error: unknown): number {
  if (isNightshiftError(error)) {
    process.stderr.write(`nightshift: ${describeError(error)}\n`);
  } else {
    process.stderr.write(
      `nightshift: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
  }
  return 1;
}

/** "1 action", "2 actions": a count with its noun in the right number. */
export function count(n: number, singular: string, plural = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : plural}`;
}
