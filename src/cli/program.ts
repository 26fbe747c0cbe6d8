import { Command } from "commander";
import { VERSION } from "../version.js";
import { commandName, registerCommands } from "./commands.js";
import { createContext } from "./context.js";
import { reportError } from "./output.js";

/** Parses and runs one command line; resolves to the exit code. */
export async function runProgram(argv: string[]): Promise<number> {
  endQuietlyOnClosedPipe();
  const program = new Command("nightshift")
    .description(
      "Local-first infrastructure for LLM agents: a logging gateway, self-checking agents, and a night-shift audit.",
    )
    .option("-c, --config <file>", "config file (default: nightshift.yaml in the data dir)")
    .showHelpAfterError()
    // Each option belongs to the command it follows: `actions show ID --json` is show's --json,
    // `kb show KEY --version 2` the entry's version, not the program's.
    .enablePositionalOptions();
  const args = hoistConfigOption(argv.slice(2));
  // With a command named, `--version` is that command's own option (`kb show KEY --version 2`).
  if (commandName(args) === undefined) program.version(VERSION);
  const context = createContext(program);
  try {
    await registerCommands(program, context, args);
    await program.parseAsync(args, { from: "user" });
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (error) {
    return reportError(error);
  } finally {
    await context.close();
  }
}

/**
 * `nightshift actions --json | head -1`: the reader has gone, which is not an error of ours.
 * Writes to a closed pipe fail with EPIPE; stop there, quietly, as Unix tools do.
 */
function endQuietlyOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EPIPE") process.exit(0);
      throw error;
    });
  }
}

/** `--config FILE` is the program's, wherever it is typed; it moves in front of the command. */
export function hoistConfigOption(args: string[]): string[] {
  const hoisted: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") {
      rest.push(...args.slice(i));
      break;
    }
    if ((arg === "-c" || arg === "--config") && i + 1 < args.length) {
      hoisted.push(arg, args[++i]!);
    } else if (arg.startsWith("--config=")) {
      hoisted.push(arg);
    } else {
      rest.push(arg);
    }
  }
  return [...hoisted, ...rest];
}
