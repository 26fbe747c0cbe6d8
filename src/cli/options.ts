// The option parsers the CLI shares with the agents' own commands (src/agents).
export { wholeNumber } from "../agents/command-options.js";
