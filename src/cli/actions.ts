import type { Command } from "commander";
import { parseSince } from "../clock.js";
import { NotFoundError } from "../errors.js";
import { type Action, actionToJson } from "../ledger/actions.js";
import type { ActionQuery } from "../ledger/stores/index.js";
import { feedbackFor, feedbackToJson } from "../plain-agents/feedback.js";
import type { CliContext } from "./context.js";
import { formatFeedback } from "./feedback-format.js";
import { wholeNumber } from "./options.js";
import { formatLocalTime, formatTable, printJson } from "./output.js";

interface ListFlags {
  agent?: string;
  flag?: string;
  since?: string;
  limit: number;
  json?: boolean;
}

export function registerActions(program: Command, context: CliContext): void {
  const actions = program
    .command("actions")
    .description("list logged actions, newest first")
    .option("--agent <name>", "only this agent's actions")
    .option("--flag <flag>", "only actions carrying this flag")
    .option("--since <when>", "only actions since a duration ago (2h, 30m, 7d) or an ISO date")
    .option("--limit <n>", "at most this many", wholeNumber("--limit"), 50)
    .option("--json", "print a JSON array of actions (all fields)")
    .action(async (flags: ListFlags) => {
      const filter: ActionQuery = { limit: flags.limit };
      if (flags.agent) filter.agent = flags.agent;
      if (flags.flag) filter.flag = flags.flag;
      if (flags.since) filter.since = parseSince(flags.since, context.clock().now());
      const list = await (await context.actionReads()).list(filter);
      if (flags.json) return printJson(list.map(actionToJson));
      if (list.length === 0) return void process.stdout.write("no actions\n");
      process.stdout.write(`${formatActionTable(list)}\n`);
    });

  actions
    .command("show <id>")
    .description(
      "show one action in full and its trace as a tree (an id prefix of 8+ characters will do)",
    )
    .option("--json", "print the action and its trace as JSON")
    .action(async (id: string, flags: { json?: boolean }) => {
      const ledger = await context.actionLedger();
      const store = ledger.actions;
      const action = await store.find(id);
      if (!action) {
        throw new NotFoundError(
          `no action ${id} in the ledger (give the full id or a unique prefix of 8+ characters; see nightshift actions)`,
        );
      }
      const trace = await store.trace(action.traceId);
      const feedback = await feedbackFor(ledger, action.id);
      if (flags.json) {
        const json = { ...actionToJson(action), feedback: feedback.map(feedbackToJson) };
        return printJson({ ...json, trace: trace.map(actionToJson) });
      }
      process.stdout.write(`${formatAction(action)}\n${formatFeedback(feedback)}`);
      process.stdout.write(`\ntrace ${action.traceId}\n`);
      process.stdout.write(`${formatTrace(trace, action.id)}\n`);
    });
}

export function formatActionTable(list: Action[]): string {
  return formatTable(list, [
    { header: "ID", value: (a) => a.id },
    { header: "STARTED", value: (a) => formatLocalTime(a.startedAt, true) },
    { header: "AGENT", value: (a) => a.agent, max: 16 },
    { header: "TYPE", value: (a) => a.actionType, max: 18 },
    { header: "MODEL", value: (a) => a.model ?? "-", max: 24 },
    { header: "STATUS", value: (a) => a.status },
    {
      header: "MS",
      value: (a) => (a.latencyMs === null ? "-" : a.latencyMs.toFixed(0)),
      align: "right",
    },
    { header: "IN", value: (a) => String(a.tokensIn ?? "-"), align: "right" },
    { header: "OUT", value: (a) => String(a.tokensOut ?? "-"), align: "right" },
    {
      header: "FLAGS",
      value: (a) => a.flags.join(",") || (a.error ? `error: ${a.error}` : ""),
      max: 40,
    },
  ]);
}

export function formatAction(a: Action): string {
  const ms = (ns: number | null) => (ns === null ? "-" : `${(ns / 1e6).toFixed(1)} ms`);
  const rows: [string, string | null][] = [
    ["id", a.id],
    ["trace", a.traceId],
    ["parent", a.parentId],
    ["agent", a.agent],
    ["type", a.actionType],
    ["model", a.model],
    ["upstream", a.upstream ? `${a.upstream}${a.gpu !== null ? ` (gpu ${a.gpu})` : ""}` : null],
    ["started", new Date(a.startedAt).toISOString()],
    ["latency", a.latencyMs === null ? null : `${a.latencyMs.toFixed(1)} ms`],
    ["status", a.status],
    ["error", a.error],
    [
      "tokens",
      a.tokensIn === null && a.tokensOut === null
        ? null
        : `${a.tokensIn ?? "-"} in, ${a.tokensOut ?? "-"} out`,
    ],
    [
      "durations",
      a.totalDuration === null
        ? null
        : `load ${ms(a.loadDuration)}, prompt ${ms(a.promptEvalDuration)}, eval ${ms(a.evalDuration)}, total ${ms(a.totalDuration)}`,
    ],
    ["confidence", a.confidence === null ? null : String(a.confidence)],
    ["flags", a.flags.length ? a.flags.join(", ") : null],
    ["audit", a.auditStatus],
    ["tier", a.tier === "detailed" ? null : a.tier],
  ];
  const lines = rows.filter(([, v]) => v !== null).map(([k, v]) => `${k.padEnd(11)}${v}`);
  for (const [label, value] of [
    ["reasoning", a.reasoning],
    ["request", a.request],
    ["response", a.response],
    ["meta", a.meta],
  ] as const) {
    if (value === null || value === undefined) continue;
    const text = typeof value === "string" ? value : JSON.stringify(value, null, 2);
    lines.push(`${label}:`, indent(text, "  "));
  }
  return lines.join("\n");
}

/** The trace as a tree by parent; `current` is marked. Orphans (parent outside it) are roots. */
export function formatTrace(trace: Action[], current: string): string {
  const ids = new Set(trace.map((a) => a.id));
  const children = new Map<string | null, Action[]>();
  for (const a of trace) {
    const parent = a.parentId && ids.has(a.parentId) ? a.parentId : null;
    children.set(parent, [...(children.get(parent) ?? []), a]);
  }
  const lines: string[] = [];
  const walk = (parent: string | null, prefix: string) => {
    const list = children.get(parent) ?? [];
    list.forEach((a, i) => {
      const last = i === list.length - 1;
      const branch = parent === null ? "" : last ? "└─ " : "├─ ";
      const mark = a.id === current ? "  ◀" : "";
      const latency = a.latencyMs === null ? "" : ` ${a.latencyMs.toFixed(0)} ms`;
      lines.push(
        `${prefix}${branch}${a.id}  ${a.agent} ${a.actionType}${a.model ? ` ${a.model}` : ""} ${a.status}${latency}${mark}`,
      );
      walk(a.id, parent === null ? prefix : prefix + (last ? "   " : "│  "));
    });
  };
  walk(null, "");
  return lines.join("\n");
}

function indent(text: string, by: string): string {
  return text
    .split("\n")
    .map((line) => by + line)
    .join("\n");
}
