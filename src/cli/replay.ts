import type { Command } from "commander";
import { isGatewayCall, replayGatewayCall } from "../gateway/replay-call.js";
import { formatCallReplay, replayToJson } from "../gateway/replay-json.js";
import { ModelClients } from "../runtime/models.js";
import { type ReplayResult, replayAction } from "../runtime/replay.js";
import { runtimeReplayToJson } from "../runtime/replay-json.js";
import type { CliContext } from "./context.js";
import { printJson } from "./output.js";

interface ReplayFlags {
  model?: string;
  role?: string;
  url?: string;
  json?: boolean;
}

export function registerReplay(program: Command, context: CliContext): void {
  program
    .command("replay")
    .description(
      "re-run a logged gateway call, stage or attempt against the same or another model, and show the difference",
    )
    .argument(
      "<id>",
      "a gateway chat/generate/completion call, a stage action (its kept attempt is replayed) or an attempt (id or 8+ character prefix)",
    )
    .option("--model <model>", "ask this model instead (same role's backend and URL)")
    .option("--role <role>", "ask this role's model instead (from models in the config)")
    .option("--url <url>", "send HTTP roles to this base URL instead of the gateway")
    .option("--json", "the comparison as JSON")
    .action(async (id: string, flags: ReplayFlags) => {
      const { config } = context.loaded();
      // Either engine: the original is read from, and the replay logged to, the selected ledger.
      const ledger = await context.actionLedger();
      const call = await ledger.actions.find(id);
      if (call && isGatewayCall(call)) {
        const result = await replayGatewayCall(ledger, call, {
          config,
          clock: context.clock(),
          ...flags,
        });
        if (flags.json) printJson(replayToJson(result));
        else process.stdout.write(`${formatCallReplay(result)}\n`);
        if (result.after.error) process.exitCode = 1;
        return;
      }
      const models = new ModelClients(config, { baseUrl: flags.url });
      try {
        const result = await replayAction(ledger, models, id, {
          model: flags.model,
          role: flags.role,
          clock: context.clock(),
        });
        if (flags.json) printJson(runtimeReplayToJson(result));
        else process.stdout.write(`${formatReplay(result)}\n`);
        if (!result.after.valid) process.exitCode = 1;
      } finally {
        await models.close();
      }
    });
}

function formatReplay(r: ReplayResult): string {
  const lines = [
    `replayed ${r.originalId} as ${r.replayId} (trace ${r.traceId})`,
    `  before: ${r.before.model ?? "?"} (role ${r.before.role})  confidence ${r.before.confidence ?? "-"}`,
    `  after:  ${r.after.model} (role ${r.after.role})  ${
      r.after.valid ? `model said ${r.after.modelReported ?? "-"}` : `INVALID: ${r.after.error}`
    }`,
  ];
  const checks = r.before.derivation?.checks ?? [];
  if (checks.length) {
    lines.push(
      `  original checks: ${checks.map((c) => `${c.passed ? "✓" : "✗"} ${c.name}`).join(", ")} (not re-run: checks are code in the agent)`,
    );
  }
  if (!r.after.valid) return lines.join("\n");
  if (r.differences.length === 0) {
    lines.push("  output: identical");
  } else {
    lines.push("  output differences:");
    for (const d of r.differences) {
      lines.push(
        `    ${d.path || "(whole output)"}: ${JSON.stringify(d.before)} → ${JSON.stringify(d.after)}`,
      );
    }
  }
  return lines.join("\n");
}
