import { NightshiftError } from "../errors.js";
import { type Action, actionToJson } from "../ledger/actions.js";
import type { ActionCursor } from "../ledger/stores/index.js";

export { actionToJson };

const PREVIEW_CHARS = 160;

/** Bodies longer than this are trimmed to a preview in listings (GET /v0/actions, live events). */
export const LISTED_BODY_CHARS = 4096;

/**
 * A row of the actions table: the action without its bodies (a page of 50 full requests can be
 * megabytes), plus a one-line preview of what was asked. Same field names as actionToJson.
 */
export function actionSummaryToJson(a: Action): Record<string, unknown> {
  const {
    request: _request,
    response: _response,
    reasoning: _reasoning,
    meta: _meta,
    ...rest
  } = actionToJson(a);
  return { ...rest, preview: previewOf(a.request) };
}

/** The last user message of a chat, the prompt of a generate, else the start of the JSON. */
export function previewOf(request: unknown): string | null {
  if (request === null || request === undefined) return null;
  let text: string | undefined;
  if (typeof request === "object" && !Array.isArray(request)) {
    const body = request as Record<string, unknown>;
    const trimmed = body.$trimmed as { preview?: unknown } | undefined;
    if (typeof trimmed?.preview === "string") text = trimmed.preview;
    else if (Array.isArray(body.messages)) {
      const users = body.messages.filter(
        (m): m is { content: unknown } =>
          typeof m === "object" && m !== null && (m as { role?: unknown }).role === "user",
      );
      const last = users.at(-1)?.content;
      if (typeof last === "string") text = last;
    } else if (typeof body.prompt === "string") text = body.prompt;
    else if (typeof body.input === "string") text = body.input;
  }
  text ??= typeof request === "string" ? request : JSON.stringify(request);
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > PREVIEW_CHARS ? `${line.slice(0, PREVIEW_CHARS - 1)}…` : line;
}

/** An opaque page cursor: base64url of "started_at:id". */
export function encodeCursor(cursor: ActionCursor): string {
  return Buffer.from(`${cursor.startedAt}:${cursor.id}`).toString("base64url");
}

export function decodeCursor(text: string): ActionCursor {
  const raw = Buffer.from(text, "base64url").toString("utf8");
  const colon = raw.indexOf(":");
  const startedAt = Number(raw.slice(0, colon));
  const id = raw.slice(colon + 1);
  if (colon < 1 || !Number.isSafeInteger(startedAt) || id === "") {
    throw new NightshiftError(
      `cursor=${text}: not a cursor this API gave out; start from page one`,
    );
  }
  return { startedAt, id };
}

/** One node of a trace tree: the action's summary and the actions it started. */
export interface TraceNode {
  action: Record<string, unknown>;
  children: TraceNode[];
}

/**
 * A trace's actions as a tree by parent_id, in start order. An action whose parent is not in the
 * trace (pruned, or logged by another daemon) becomes a root, so nothing is hidden.
 */
export function traceToTree(actions: Action[]): TraceNode[] {
  const nodes = new Map<string, TraceNode>();
  for (const a of actions) {
    nodes.set(a.id, {
      action: { ...actionSummaryToJson(a), meta: a.meta, reasoning: a.reasoning },
      children: [],
    });
  }
  const roots: TraceNode[] = [];
  for (const a of actions) {
    const node = nodes.get(a.id)!;
    const parent = a.parentId ? nodes.get(a.parentId) : undefined;
    if (parent) parent.children.push(node);
    else roots.push(node);
  }
  return roots;
}
