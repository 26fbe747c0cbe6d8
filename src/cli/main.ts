#!/usr/bin/env node
import { VERSION } from "../version.js";

// `--version` answers before anything else loads: it is what scripts and shells call most.
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === "--version" || args[0] === "-V")) {
  process.stdout.write(`${VERSION}\n`);
} else {
  const { runProgram } = await import("./program.js");
  process.exitCode = await runProgram(process.argv);
}
