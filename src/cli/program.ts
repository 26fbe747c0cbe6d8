import { Command, CommanderError } from "commander";
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
    .enablePositionalOptions()
    // A usage error or --help ends here with its exit code, not with process.exit deep inside
    // commander: the caller (main.ts, or a test running many command lines in one process) exits.
    // Subcommands inherit this, as every one is made with .command().
    .exitOverride();
  const args = hoistConfigOption(argv.slice(2));
  // With a command named, `--version` is that command's own option (`kb show KEY --version 2`).
  if (commandName(args) === undefined) program.version(VERSION);
  const context = createContext(program);
  try {
    await registerCommands(program, context, args);
    await program.parseAsync(args, { from: "user" });
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (error) {
    // Commander has already printed its message (or the help) to stderr or stdout.
    if (error instanceof CommanderError) return error.exitCode;
    return reportError(error);
  } finally {
    await context.close();
  }
}

let pipeGuarded = false;

/**
 * `nightshift actions --json | head -1`: the reader has gone, which is not an error of ours.
 * Writes to a closed pipe fail with EPIPE; stop there, quietly, as Unix tools do.
 */
function endQuietlyOnClosedPipe(): void {
  // Once per process: a test runs many command lines in one process (test/support/cli-in-process.ts).
  if (pipeGuarded) return;
  pipeGuarded = true;
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
