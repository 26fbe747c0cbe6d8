import type { Command } from "commander";
import { systemClock } from "../clock.js";
import { NightshiftError } from "../errors.js";
import { feedbackToJson, giveFeedback, parseFeedbackBody } from "../plain-agents/feedback.js";
import type { CliContext } from "./context.js";
import { printJson } from "./output.js";

interface FlagFlags {
  confidence?: string;
  reason?: string;
  score?: string[];
  by?: string;
  json?: boolean;
}

/**
 * `nightshift actions flag ID FLAG...`: flags an action after the fact (requires_audit puts it
 * in the next audit), optionally with a confidence, a reason and named scores; recorded as
 * feedback, the same as POST /v0/actions/:id/feedback.
 */
export function registerActionsFlag(program: Command, context: CliContext): void {
  const actions = program.commands.find((c) => c.name() === "actions");
  if (!actions) throw new Error("the actions command must be registered before actions flag");
  actions
    .command("flag <id> [flags...]")
    .description("flag an action after the fact (e.g. requires_audit), with optional feedback")
    .option("--confidence <n>", "how sure the work was, 0 to 1 (under the threshold flags it)")
    .option("--reason <text>", "why, kept with the feedback")
    .option(
      "--score <name=value>",
      "a named score: thumbs=up, eval.f1=0.82 (repeatable)",
      collect,
      [],
    )
    .option("--by <name>", "who gives the feedback (default: your login name)")
    .option("--json", "print the feedback and the action's flags as JSON")
    .action(async (id: string, flags: string[], _local: FlagFlags, command: Command) => {
      // `actions` has a --json of its own, which commander gives the parent; read both.
      const options = command.optsWithGlobals<FlagFlags>();
      const fields = parseFeedbackBody({
        flags,
        ...(options.confidence !== undefined ? { confidence: options.confidence } : {}),
        ...(options.reason !== undefined ? { reasoning: options.reason } : {}),
        ...(options.score?.length ? { scores: parseScores(options.score) } : {}),
        ...(options.by !== undefined ? { by: options.by } : {}),
      });
      const by = process.env.USER || process.env.LOGNAME || "cli";
      const { action, feedback } = await giveFeedback(
        {
          ledger: await context.actionLedger(),
          clock: systemClock,
          threshold: context.loaded().config.runtime.confidence_threshold,
        },
        id,
        fields,
        by,
      );
      if (options.json)
        return printJson({ feedback: feedbackToJson(feedback), flags: action.flags });
      process.stdout.write(
        `${action.id}: flags ${action.flags.join(", ") || "(none)"}${action.confidence === null ? "" : `; confidence ${action.confidence}`}\n`,
      );
    });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function parseScores(raw: string[]): Record<string, unknown> {
  const scores: Record<string, unknown> = {};
  for (const entry of raw) {
    const at = entry.indexOf("=");
    if (at < 1) throw new NightshiftError(`--score ${entry}: expected name=value, e.g. thumbs=up`);
    const value = entry.slice(at + 1);
    const number = value.trim() === "" ? Number.NaN : Number(value);
    scores[entry.slice(0, at)] = Number.isFinite(number) ? number : value;
  }
  return scores;
}
