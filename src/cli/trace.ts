import type { Command } from "commander";
import { formatTraceTree, readTraceTree, traceTreeToJson } from "../runtime/trace-tree.js";
import type { CliContext } from "./context.js";
import { printJson } from "./output.js";

export function registerTrace(program: Command, context: CliContext): void {
  program
    .command("trace")
    .description(
      "show the whole tree of a run: stages, attempts (the kept one starred), checks, confidence, flags",
    )
    .argument("<id>", "a trace id, or the id (or 8+ character prefix) of any action in it")
    .option("--json", "the tree as JSON (each action's fields plus winner and children)")
    .action(async (id: string, flags: { json?: boolean }) => {
      const tree = await readTraceTree((await context.actionLedger()).actions, id);
      if (flags.json) printJson(traceTreeToJson(tree));
      else process.stdout.write(`${formatTraceTree(tree)}\n`);
    });
}
