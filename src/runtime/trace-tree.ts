import { NotFoundError } from "../errors.js";
import type { Action, ActionStore } from "../ledger/actions.js";
import { actionToJson } from "../ledger/actions.js";
import type { ActionReads } from "../ledger/stores/index.js";

export interface TraceNode {
  action: Action;
  /** This attempt is the one its stage kept. */
  winner: boolean;
  children: TraceNode[];
}

export interface TraceTree {
  traceId: string;
  /** Actions without a parent in this trace (normally one: the run). */
  roots: TraceNode[];
  count: number;
}

/**
 * The whole tree of a run. `id` may be a trace id, or the id (or a unique 8+ character prefix)
 * of any action in it.
 */
export function loadTraceTree(store: ActionStore, id: string): TraceTree {
  const traceId = /^[0-9a-f]{32}$/i.test(id) ? id.toLowerCase() : store.find(id)?.traceId;
  return buildTraceTree(id, traceId, traceId ? store.trace(traceId) : []);
}

/** loadTraceTree over the async action log of either engine (see ledger/stores.ts). */
export async function readTraceTree(reads: ActionReads, id: string): Promise<TraceTree> {
  const traceId = /^[0-9a-f]{32}$/i.test(id) ? id.toLowerCase() : (await reads.find(id))?.traceId;
  return buildTraceTree(id, traceId, traceId ? await reads.trace(traceId) : []);
}

function buildTraceTree(id: string, traceId: string | undefined, actions: Action[]): TraceTree {
  if (!traceId || actions.length === 0) {
    throw new NotFoundError(
      `no action or trace ${id} in the ledger (try \`nightshift actions\` for recent ids)`,
    );
  }
  const ids = new Set(actions.map((a) => a.id));
  const winners = new Set(
    actions.map((a) => a.meta?.winner).filter((w): w is string => typeof w === "string"),
  );
  const nodes = new Map<string, TraceNode>(
    actions.map((a) => [a.id, { action: a, winner: winners.has(a.id), children: [] }]),
  );
  const roots: TraceNode[] = [];
  for (const action of actions) {
    const node = nodes.get(action.id)!;
    if (action.parentId && ids.has(action.parentId))
      nodes.get(action.parentId)!.children.push(node);
    else roots.push(node);
  }
  return { traceId, roots, count: actions.length };
}

/** The `--json` shape: each action's snake_case JSON with `winner` and nested `children`. */
export function traceTreeToJson(tree: TraceTree): Record<string, unknown> {
  const toJson = (node: TraceNode): Record<string, unknown> => ({
    ...actionToJson(node.action),
    winner: node.winner,
    children: node.children.map(toJson),
  });
  return { trace_id: tree.traceId, count: tree.count, roots: tree.roots.map(toJson) };
}

interface CheckLine {
  name: string;
  passed: boolean;
  detail?: string;
}

/** An indented text tree: one line per action, checks under attempts, the winner starred. */
export function formatTraceTree(tree: TraceTree): string {
  const lines = [`trace ${tree.traceId} (${tree.count} action${tree.count === 1 ? "" : "s"})`];
  const walk = (node: TraceNode, prefix: string, last: boolean, root: boolean) => {
    const branch = root ? "" : last ? "└─ " : "├─ ";
    lines.push(`${prefix}${branch}${describe(node)}`);
    const childPrefix = root ? "" : `${prefix}${last ? "   " : "│  "}`;
    const inner = `${childPrefix}${node.children.length ? "│  " : "   "}`;
    for (const line of detailLines(node.action)) lines.push(`${inner}${line}`);
    node.children.forEach((child, i) => {
      walk(child, childPrefix, i === node.children.length - 1, false);
    });
  };
  tree.roots.forEach((root, i) => {
    walk(root, "", i === tree.roots.length - 1, true);
  });
  return lines.join("\n");
}

function describe(node: TraceNode): string {
  const a = node.action;
  const meta = a.meta ?? {};
  const parts = [node.winner ? `★ ${a.actionType}` : a.actionType];
  if (typeof meta.approach === "string") parts.push(`[${meta.approach}]`);
  parts.push(a.agent);
  if (a.model) parts.push(a.model);
  parts.push(a.status);
  if (a.confidence !== null) parts.push(`confidence ${a.confidence}`);
  if (a.latencyMs !== null) parts.push(`${Math.round(a.latencyMs)} ms`);
  if (a.flags.length) parts.push(`flags: ${a.flags.join(",")}`);
  if (a.auditStatus) parts.push(`audit: ${a.auditStatus}`);
  parts.push(a.id);
  return parts.join("  ");
}

function detailLines(a: Action): string[] {
  const meta = a.meta ?? {};
  const lines: string[] = [];
  if (a.error) lines.push(`error: ${a.error}`);
  if (typeof meta.reason === "string") lines.push(`kept: ${meta.reason}`);
  if (typeof meta.replay_of === "string") lines.push(`replay of ${meta.replay_of}`);
  const derivation = meta.confidence as
    | { checks?: CheckLine[]; model_reported?: number | null }
    | undefined;
  for (const check of derivation?.checks ?? []) {
    lines.push(
      `${check.passed ? "✓" : "✗"} ${check.name}${check.detail ? `: ${check.detail}` : ""}`,
    );
  }
  if (derivation && derivation.model_reported !== undefined && derivation.model_reported !== null) {
    lines.push(`model said ${derivation.model_reported}`);
  }
  return lines;
}
