import { mkdirSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";

/** The data dir: NIGHTSHIFT_HOME, else $XDG_DATA_HOME/nightshift (~/.local/share/nightshift). */
export function resolveHome(env: NodeJS.ProcessEnv = process.env): string {
  if (env.NIGHTSHIFT_HOME) return resolve(env.NIGHTSHIFT_HOME);
  const dataHome = env.XDG_DATA_HOME || join(homedir(), ".local", "share");
  return join(dataHome, "nightshift");
}

export function ensureHome(home: string): void {
  // Owner-only: the ledger holds prompts, replies and bank statements.
  mkdirSync(home, { recursive: true, mode: 0o700 });
}
