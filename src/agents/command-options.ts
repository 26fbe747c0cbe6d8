import { userInfo } from "node:os";
import { NightshiftError } from "../errors.js";

// Option parsing shared by the CLI (src/cli) and the agents' commands, which may not import it.

/**
 * The one parser of every numeric option, given to commander as the option's argument parser:
 * `--limit abc`, `--limit 0` or `--limit 2.5` is refused with the same message everywhere, before
 * the command touches anything, and the command exits non-zero.
 */
export function wholeNumber(
  flag: string,
  { min = 1, max = Number.MAX_SAFE_INTEGER }: { min?: number; max?: number } = {},
): (value: string) => number {
  return (value) => {
    const n = /^[+-]?\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      const range =
        max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`;
      throw new NightshiftError(`${flag} ${value}: expected a whole number ${range}`);
    }
    return n;
  };
}

/** Who a decision or a correction is by: `--by`, else the logged-in user. */
export function personName(by: string | undefined): string {
  if (by?.trim()) return by.trim();
  try {
    return userInfo().username;
  } catch {
    // No passwd entry (some containers): the environment is the next best witness.
    return process.env.USER || process.env.LOGNAME || "unknown";
  }
}
