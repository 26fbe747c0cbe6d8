import { readFileSync } from "node:fs";
import { Command } from "commander";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { agents, registerAgent } from "../../src/agents/registry.js";
import { registerCommands } from "../../src/cli/commands.js";
import { runProgram } from "../../src/cli/program.js";
import { ManualClock } from "../../src/clock.js";
import { parseConfig } from "../../src/config.js";
import { SqliteActionLedger } from "../../src/ledger/sqlite/action-ledger.js";
import { buildCorrectionHandlers } from "../../src/review/agent-handlers.js";
import { ReviewQueue } from "../../src/review/queue.js";
import { createJobs } from "../../src/scheduler/jobs/index.js";
import { tempLedger } from "../support/temp-ledger.js";
import { appliedToEcho, echoAgent, echoLoads } from "./echo/index.js";

const MIGRATIONS = {
  sqlite: new URL("../../src/ledger/migrations/", import.meta.url),
  postgres: new URL("../../src/ledger/postgres/migrations/", import.meta.url),
};

describe("agents as a category", () => {
  it("lists finance with everything it brings: tables on both engines, command, handler", () => {
    const finance = agents().find((agent) => agent.name === "finance")!;
    expect(finance.cli?.commands).toHaveProperty("finance");
    expect(finance.correctionHandler).toBeTypeOf("function");
    expect(finance.jobs).toEqual([]);
    for (const engine of ["sqlite", "postgres"] as const) {
      const files = finance.tables.migrations[engine];
      expect(files.length).toBeGreaterThan(0);
      const sql = files.map((file) => readFileSync(new URL(file, MIGRATIONS[engine]), "utf8"));
      for (const table of finance.tables.names) {
        expect(sql.join("\n")).toMatch(new RegExp(`CREATE TABLE ${table}\\b`));
      }
    }
  });

  describe("a second agent, defined only in its own folder and registered", () => {
    let unregister: () => void;
    let temp: ReturnType<typeof tempLedger>;
    beforeEach(() => {
      unregister = registerAgent(echoAgent);
      temp = tempLedger();
      appliedToEcho.length = 0;
    });
    afterEach(() => {
      unregister();
      temp.cleanup();
      vi.restoreAllMocks();
    });

    it("appears in the command list without its code loading, and its command runs", async () => {
      const program = new Command("nightshift");
      const loadsBefore = echoLoads.count;
      await registerCommands(program, {} as never, ["--help"]);
      const listed = program.commands.find((command) => command.name() === "echo");
      expect(listed?.description()).toBe("say the words back, and which ledger heard them");
      expect(echoLoads.count).toBe(loadsBefore);
      const written: string[] = [];
      vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
        written.push(String(chunk));
        return true;
      });
      vi.stubEnv("NIGHTSHIFT_HOME", temp.home);
      vi.stubEnv("NIGHTSHIFT_LEDGER_URL", "");
      const code = await runProgram(["node", "nightshift", "echo", "hello", "night"]);
      expect(code).toBe(0);
      expect(written.join("")).toBe("hello night (sqlite ledger)\n");
      expect(echoLoads.count).toBe(loadsBefore + 1);
    });

    it("receives a person's decision on its own item through its correction handler", async () => {
      const config = parseConfig({});
      const handlers = buildCorrectionHandlers({
        stores: new SqliteActionLedger(temp.ledger, false),
        config,
      });
      const queue = new ReviewQueue(new SqliteActionLedger(temp.ledger, false), { handlers });
      const { item } = await queue.open({
        kind: "other",
        agent: "echo",
        title: "say it louder?",
        original: { words: "hello" },
        proposed: { words: "HELLO" },
        openedBy: "test",
      });
      const decision = await queue.accept(item.id, { by: "sam" });
      expect(decision).toMatchObject({
        applied: true,
        note: 'echo took {"words":"HELLO"} (currency USD)',
      });
      expect(appliedToEcho).toEqual([
        expect.objectContaining({ agent: "echo", corrected: { words: "HELLO" }, source: "person" }),
      ]);
      // Finance's handler is built the same way, from the same registry.
      expect(handlers.for("finance")).toBeDefined();
    });

    it("has its job scheduled beside the built-in ones", () => {
      const stores = new SqliteActionLedger(temp.ledger, false);
      const jobs = createJobs({
        stores,
        monitor: stores.monitor,
        config: parseConfig({}),
        clock: new ManualClock(0),
        home: temp.home,
      });
      expect(jobs.map((job) => job.name)).toEqual(expect.arrayContaining(["audit", "echo-tidy"]));
    });

    it("refuses a second agent with a name or a command that is taken", () => {
      expect(() => registerAgent({ ...echoAgent })).toThrow(/"echo" is already registered/);
      expect(() =>
        registerAgent({ ...echoAgent, name: "echo2", cli: { ...echoAgent.cli! } }),
      ).toThrow(/cannot add the command "echo": agent "echo" has it/);
    });
  });

  it("leaves no trace of an agent once it is removed", () => {
    const unregister = registerAgent(echoAgent);
    unregister();
    expect(agents().map((agent) => agent.name)).toEqual(["finance"]);
  });
});
