import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

// Each benchmark runs in its own process, one after another, so none measures another's garbage
// or warm caches. `npm run bench -- NAME` runs the ones whose file name contains NAME; further
// arguments go to each benchmark run.
const dir = fileURLToPath(new URL(".", import.meta.url));
const filter = process.argv[2];
const files = readdirSync(dir)
  .filter((f) => f.endsWith(".bench.ts") && (!filter || f.includes(filter)))
  .sort();
let failed = 0;
for (const file of files) {
  process.stdout.write(`\n## ${file}\n`);
  const result = spawnSync(
    process.execPath,
    ["--import", "tsx", `${dir}${file}`, ...process.argv.slice(3)],
    {
      stdio: "inherit",
    },
  );
  if (result.status !== 0) failed++;
}
if (files.length === 0) process.stdout.write("no benchmarks matched\n");
process.exitCode = failed ? 1 : 0;
