import type { Command } from "commander";
import type { CliContext } from "./context.js";

/** Each command group lives in its own file and adds itself here. */
type Register = (program: Command, context: CliContext) => void;

const groups: Register[] = [];

export function registerCommands(program: Command, context: CliContext): void {
  for (const register of groups) register(program, context);
}
