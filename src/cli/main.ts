#!/usr/bin/env node
import { Command } from "commander";
import { VERSION } from "../version.js";
import { registerCommands } from "./commands.js";
import { createContext } from "./context.js";
import { reportError } from "./output.js";

const program = new Command("nightshift")
  .description(
    "Local-first infrastructure for LLM agents: a logging gateway, self-checking agents, and a night-shift audit.",
  )
  .version(VERSION)
  .option("-c, --config <file>", "config file (default: nightshift.yaml in the data dir)")
  .showHelpAfterError();

const context = createContext(program);
registerCommands(program, context);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  process.exitCode = reportError(error);
} finally {
  await context.close();
}
