/**
 * A prune in its own process, for the kill -9 test: small batches with a pause between them, and
 * a line on stdout after each committed transaction so the test knows when to kill it.
 */
import { Ledger } from "../../src/ledger/ledger.js";
import { pruneLedger } from "../../src/retention/prune.js";
import { retentionOf } from "./seed.js";

const [path, now, hardCapDays] = process.argv.slice(2);
const ledger = Ledger.open(path!);
let batches = 0;
await pruneLedger(retentionOf(ledger), {
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
