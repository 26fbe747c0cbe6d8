import type { Command } from "commander";
import type { CliContext } from "./context.js";
import { registerServe } from "./serve.js";

/** Each command group lives in its own file and adds itself here. */
type Register = (program: Command, context: CliContext) => void;

const groups: Register[] = [registerServe];

export function registerCommands(program: Command, context: CliContext): void {
  for (const register of groups) register(program, context);
}
