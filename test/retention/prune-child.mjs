/**
 * A prune in its own process, for the kill -9 test: small batches with a pause between them, and
 * a line on stdout after each committed transaction so the test knows when to kill it. Plain
 * JavaScript on the built modules (the suite's global setup builds dist/), so the child starts
 * as the daemon would, without compiling the sources first.
 */
import { Ledger } from "../../dist/ledger/ledger.js";
import { sqliteStores } from "../../dist/ledger/select.js";
import { pruneLedger } from "../../dist/retention/prune.js";

const [path, now, hardCapDays] = process.argv.slice(2);
const ledger = Ledger.open(path);
let batches = 0;
await pruneLedger(sqliteStores(ledger).retention, {
  retention: {
    detailed_days: 14,
    aggregate_after_days: 90,
    every_days: 7,
    ...(hardCapDays ? { hard_cap_days: Number(hardCapDays) } : {}),
  },
  now: Number(now),
  vacuum: "never",
  maxBatch: 7,
  minBatch: 7,
  minPauseMs: 15,
  onCheckpoint: () => process.stdout.write(`batch ${++batches}\n`),
});
process.stdout.write("done\n");
ledger.close();
