import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { allCommandGroups, commandName } from "./commands.js";
import type { CliContext } from "./context.js";

const unused = new Proxy({} as CliContext, {
  get: () => {
    throw new Error("registering a command must not open the config or the ledger");
  },
});

describe("the lazy command registry", () => {
  it("lists each group's commands with the descriptions the group itself registers", async () => {
    for (const group of allCommandGroups()) {
      const program = new Command("nightshift");
      (await group.load())(program, unused);
      const registered = Object.fromEntries(
        program.commands.map((command) => [command.name(), command.description()]),
      );
      expect(registered).toEqual(group.commands);
    }
  });

  it("finds the command past the global options, and the one `help` names", () => {
    expect(commandName(["-c", "x.yaml", "actions", "--limit", "2"])).toBe("actions");
    expect(commandName(["--config", "x.yaml", "kb", "show", "k", "--version", "1"])).toBe("kb");
    expect(commandName(["help", "finance"])).toBe("finance");
    expect(commandName(["--help"])).toBeUndefined();
  });
});
