import type { Action } from "../ledger/actions.js";
import type { ActionReads } from "../ledger/stores/index.js";
import { AUDITOR_AGENT } from "./select.js";

/**
 * How one selected action is shown to the reviewer: its input and output, how sure the day agent
 * was and why, and its trace context (the parent stage, the sibling stages, the attempts it
 * made), plus what other agents did around the same time. Bodies are cut to a length chosen by
 * the batch planner so any one item fits the reviewer's context window.
 */

/** Longest body (request, response, reasoning) per detail level; the planner picks a level. */
export const DETAIL_LEVELS = [4000, 1200, 300] as const;

export interface ItemView {
  action: Action;
  text: string;
  /** Ids the reviewer may name in an insight: the item and its nearby actions of other agents. */
  related: string[];
}

/** Request keys that are plumbing, not input a reviewer needs to judge the answer. */
const PLUMBING = new Set(["format", "options", "stream", "keep_alive", "stream_options"]);

/** What rendering reads around an action; fetched once, rendered at every detail level. */
export interface ItemContext {
  action: Action;
  parent: Action | undefined;
  siblings: Action[];
  attempts: Action[];
  nearby: Action[];
}

export async function readItemContext(
  actions: Pick<ActionReads, "get" | "children" | "list">,
  action: Action,
  crossAgentWindowMs: number,
): Promise<ItemContext> {
  const [parent, siblings, attempts, nearby] = await Promise.all([
    action.parentId ? actions.get(action.parentId) : undefined,
    action.parentId ? actions.children(action.parentId) : [],
    actions.children(action.id),
    nearbyActions(actions, action, crossAgentWindowMs),
  ]);
  return {
    action,
    parent,
    siblings: siblings.filter((a) => a.id !== action.id),
    attempts,
    nearby,
  };
}

export function renderItem(context: ItemContext, level: number): ItemView {
  const { action, parent, siblings, attempts, nearby } = context;
  const max = DETAIL_LEVELS[Math.min(level, DETAIL_LEVELS.length - 1)]!;
  const short = Math.min(max, 400);
  const view = {
    action_id: action.id,
    agent: action.agent,
    action_type: action.actionType,
    model: action.model,
    started_at: new Date(action.startedAt).toISOString(),
    status: action.status,
    error: action.error,
    flags: action.flags,
    day_confidence: action.confidence,
    how_confidence_was_derived: cut(action.meta, short),
    input: cut(stripPlumbing(action.request), max),
    output: cut(action.response, max),
    reasoning: cut(action.reasoning, short),
    trace: {
      parent: parent ? summarize(parent, short) : null,
      sibling_stages: siblings.slice(0, 6).map((a) => summarize(a, short)),
      attempts: attempts.slice(0, 6).map((a) => summarize(a, short)),
    },
    nearby_other_agents: nearby.map((a) => summarize(a, Math.min(short, 200))),
  };
  return {
    action,
    text: JSON.stringify(view, null, 1),
    related: [action.id, ...nearby.map((a) => a.id)],
  };
}

/** Up to three actions of other agents within the cross-agent window, nearest first. */
async function nearbyActions(
  actions: Pick<ActionReads, "list">,
  action: Action,
  windowMs: number,
): Promise<Action[]> {
  if (windowMs <= 0) return [];
  const around = await actions.list({
    since: action.startedAt - windowMs,
    until: action.startedAt + windowMs + 1,
    limit: 50,
    order: "asc",
  });
  return around
    .filter((a) => a.agent !== action.agent && a.agent !== AUDITOR_AGENT && a.parentId === null)
    .sort(
      (a, b) => Math.abs(a.startedAt - action.startedAt) - Math.abs(b.startedAt - action.startedAt),
    )
    .slice(0, 3);
}

function summarize(action: Action, max: number): Record<string, unknown> {
  return {
    action_id: action.id,
    agent: action.agent,
    action_type: action.actionType,
    started_at: new Date(action.startedAt).toISOString(),
    status: action.status,
    confidence: action.confidence,
    flags: action.flags,
    input: cut(stripPlumbing(action.request), max),
    output: cut(action.response ?? action.error, max),
  };
}

function stripPlumbing(request: unknown): unknown {
  if (!request || typeof request !== "object" || Array.isArray(request)) return request;
  return Object.fromEntries(Object.entries(request).filter(([key]) => !PLUMBING.has(key)));
}

/** The value as is when its JSON fits, else its JSON text cut with a note of what was left out. */
export function cut(value: unknown, max: number): unknown {
  if (value === null || value === undefined) return null;
  const text = typeof value === "string" ? value : JSON.stringify(value);
  if (text.length <= max) return value;
  return `${text.slice(0, max)}… [${text.length - max} more characters cut]`;
}

/** Tokens a text takes, estimated the usual way for English and JSON: about four characters each. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}
