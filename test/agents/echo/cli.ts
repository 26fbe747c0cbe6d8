import type { Command } from "commander";
import type { AgentCliContext } from "../../../src/agents/agent.js";

export function registerEcho(program: Command, context: AgentCliContext): void {
  program
    .command("echo")
    .description("say the words back, and which ledger heard them")
    .argument("<words...>", "what to say")
    .action(async (words: string[]) => {
      const stores = await context.actionLedger();
      process.stdout.write(`${words.join(" ")} (${stores.engine} ledger)\n`);
    });
}
