import type { Command } from "commander";
import { NightshiftError } from "../errors.js";
import {
  type DecisionResult,
  type ReviewItem,
  type ReviewQueue,
  type ReviewStatus,
  reviewItemToJson,
} from "../review/queue.js";
import type { CliContext } from "./context.js";
import { personName } from "./kb.js";
import { wholeNumber } from "./options.js";
import { formatTable, printJson } from "./output.js";

const STATUSES: (ReviewStatus | "all")[] = ["open", "accepted", "rejected", "edited", "all"];

async function openQueue(context: CliContext): Promise<ReviewQueue> {
  return (await context.app()).review;
}

/** Review ids are small integers, as a person would type them. */
export function parseItemId(value: string): number {
  const id = Number(value.replace(/^#/, ""));
  if (!Number.isInteger(id) || id < 1) {
    throw new NightshiftError(
      `"${value}" is not a review item id (a number, as \`nightshift review\` lists)`,
    );
  }
  return id;
}

/** The --output of `review edit`: JSON, with the parser's complaint when it is not. */
export function parseOutput(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch (error) {
    throw new NightshiftError(
      `--output is not valid JSON (${(error as Error).message}); quote it for the shell, e.g. --output '{"category":"Coffee"}'`,
    );
  }
}

function describeItem(item: ReviewItem): string {
  const show = (value: unknown) => JSON.stringify(value, null, 2) ?? "null";
  const lines = [
    `#${item.id}  ${item.title}`,
    `status: ${item.status}${item.decidedBy ? ` by ${item.decidedBy} at ${new Date(item.decidedAt ?? 0).toISOString()}` : ""}`,
    `kind: ${item.kind}   agent: ${item.agent}   opened by: ${item.openedBy} at ${new Date(item.createdAt).toISOString()}`,
  ];
  if (item.actionId) lines.push(`action: ${item.actionId}`);
  if (item.confidence !== null) lines.push(`confidence: ${item.confidence.toFixed(2)}`);
  if (item.reasoning) lines.push("", `reasoning: ${item.reasoning}`);
  lines.push("", `original: ${show(item.original)}`, `proposed: ${show(item.proposed)}`);
  if (item.context !== null) lines.push(`context: ${show(item.context)}`);
  if (item.status !== "open") {
    lines.push("", `decision: ${show(item.decisionOutput)}`);
    if (item.decisionReason) lines.push(`reason: ${item.decisionReason}`);
    if (item.appliedNote) lines.push(`applied: ${item.appliedNote}`);
  }
  return lines.join("\n");
}

function reportDecision(result: DecisionResult, json: boolean | undefined): void {
  if (json) {
    printJson({ ...reviewItemToJson(result.item), applied: result.applied, note: result.note });
  } else {
    process.stdout.write(`#${result.item.id} ${result.item.status}: ${result.note}\n`);
  }
}

interface DecideFlags {
  by?: string;
  reason?: string;
  json?: boolean;
}

export function registerReview(program: Command, context: CliContext): void {
  const review = program
    .command("review")
    .description("the human review queue: what the audit could not settle alone")
    .option("--status <status>", `${STATUSES.join(", ")}`, "open")
    .option("--agent <agent>", "only this agent's items")
    .option("--limit <n>", "most items", wholeNumber("--limit"), 100)
    .option("--json", "JSON output")
    .action(async (flags: { status: string; agent?: string; limit: number; json?: boolean }) => {
      if (!STATUSES.includes(flags.status as ReviewStatus)) {
        throw new NightshiftError(`--status ${flags.status}: use one of ${STATUSES.join(", ")}`);
      }
      const queue = await openQueue(context);
      const items = await queue.store.list({
        ...(flags.status === "all" ? {} : { status: flags.status as ReviewStatus }),
        ...(flags.agent ? { agent: flags.agent } : {}),
        limit: flags.limit,
      });
      if (flags.json) return printJson(items.map(reviewItemToJson));
      if (items.length === 0)
        return void process.stdout.write(
          `no ${flags.status === "all" ? "" : `${flags.status} `}review items\n`,
        );
      const table = formatTable(items, [
        { header: "ID", value: (i) => String(i.id), align: "right" },
        { header: "KIND", value: (i) => i.kind },
        { header: "AGENT", value: (i) => i.agent },
        {
          header: "CONF",
          value: (i) => (i.confidence === null ? "" : i.confidence.toFixed(2)),
          align: "right",
        },
        { header: "STATUS", value: (i) => i.status },
        { header: "TITLE", value: (i) => i.title, max: 60 },
      ]);
      process.stdout.write(`${table}\n`);
    });

  review
    .command("show <id>")
    .description("one item: original, proposal, reasoning, and any decision")
    .option("--json", "JSON output")
    .action(async (id: string, _flags: unknown, command: Command) => {
      // The group's own --json is also parsed after a subcommand, so read both.
      const flags = command.optsWithGlobals<{ json?: boolean }>();
      const item = await (await openQueue(context)).require(parseItemId(id));
      if (flags.json) printJson(reviewItemToJson(item));
      else process.stdout.write(`${describeItem(item)}\n`);
    });

  const decide = (name: string, description: string) =>
    review
      .command(name)
      .description(description)
      .option("--by <name>", "who decides (default: your login name)")
      .option("--reason <text>", "why, kept with the decision")
      .option("--json", "JSON output");

  decide("accept <id>", "accept the proposed output and apply it").action(
    async (id: string, _flags: unknown, command: Command) => {
      const flags = command.optsWithGlobals<DecideFlags>();
      const result = await (await openQueue(context)).accept(parseItemId(id), {
        by: personName(flags.by),
        reason: flags.reason,
      });
      reportDecision(result, flags.json);
    },
  );

  decide("reject <id>", "keep the original output").action(
    async (id: string, _flags: unknown, command: Command) => {
      const flags = command.optsWithGlobals<DecideFlags>();
      const result = await (await openQueue(context)).reject(parseItemId(id), {
        by: personName(flags.by),
        reason: flags.reason,
      });
      reportDecision(result, flags.json);
    },
  );

  decide("edit <id>", "apply your own output instead of the proposal")
    .requiredOption("--output <json>", "the corrected output, as JSON")
    .action(async (id: string, _flags: unknown, command: Command) => {
      const flags = command.optsWithGlobals<DecideFlags & { output: string }>();
      const output = parseOutput(flags.output);
      const result = await (await openQueue(context)).edit(parseItemId(id), output, {
        by: personName(flags.by),
        reason: flags.reason,
      });
      reportDecision(result, flags.json);
    });
}
