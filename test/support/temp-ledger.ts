import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ledger } from "../../src/ledger/ledger.js";

/** A fresh data dir in /tmp; `cleanup` closes everything and removes it. */
export function tempHome(prefix = "nightshift-test-"): { home: string; cleanup: () => void } {
  const home = mkdtempSync(join(tmpdir(), prefix));
  return { home, cleanup: () => rmSync(home, { recursive: true, force: true }) };
}

/** A real ledger file in a fresh temp dir. */
export function tempLedger(): { ledger: Ledger; home: string; cleanup: () => void } {
  const { home, cleanup } = tempHome();
  const ledger = Ledger.open(join(home, "nightshift.db"), { flushIntervalMs: 5 });
  return {
    ledger,
    home,
    cleanup: () => {
      ledger.close();
      cleanup();
    },
  };
}
