import type { IncomingMessage, ServerResponse } from "node:http";
import { NightshiftError, NotFoundError } from "../errors.js";
import { knowledgeEntryToJson, SHARED_SCOPE } from "../knowledge/kb.js";
import { actionToJson } from "../ledger/actions.js";
import { SqliteActionLedger } from "../ledger/sqlite/action-ledger.js";
import { SqliteActionReads } from "../ledger/sqlite/action-reads.js";
import type { ActionReads } from "../ledger/stores/index.js";
import { feedbackFor, feedbackToJson } from "../plain-agents/feedback.js";
import {
  type Decision,
  ReviewQueue,
  type ReviewStatus,
  reviewItemToJson,
} from "../review/queue.js";
import { VERSION } from "../version.js";
import { intParam, readJsonBody, sendError, sendJson } from "./http.js";
import { ledgerStores } from "./ledger-stores.js";
import type { ApiDeps, ApiRequestHandler, Deps, Request, Route } from "./route-types.js";
import { actionRoutes } from "./routes-actions.js";
import { actionAuditToJson, auditRoutes, auditStore } from "./routes-audit.js";
import { correctionRoutes } from "./routes-corrections.js";
import { feedbackRoutes } from "./routes-feedback.js";
import { financeRoutes } from "./routes-finance.js";
import { jobRoutes } from "./routes-jobs.js";
import { knowledgeWriteRoutes } from "./routes-knowledge.js";
import { monitorRoutes } from "./routes-monitor.js";
import { overviewRoutes } from "./routes-overview.js";
import { replayRoutes } from "./routes-replay.js";

export type { ApiDeps, ApiRequestHandler } from "./route-types.js";

const REVIEW_STATUSES = ["open", "accepted", "rejected", "edited"];
const DECISIONS: Record<string, Decision> = { accept: "accept", reject: "reject", edit: "edit" };

const routes: Route[] = [
  { method: "GET", pattern: ["health"], handler: health },
  { method: "GET", pattern: ["review"], handler: listReview },
  { method: "GET", pattern: ["review", ":id"], handler: oneReviewItem },
  { method: "POST", pattern: ["review", ":id", ":decision"], handler: decide },
  { method: "GET", pattern: ["kb"], handler: knowledge },
  { method: "GET", pattern: ["kb", ":scope", ":key"], handler: knowledgeEntry },
  { method: "GET", pattern: ["kb", ":scope", ":key", "history"], handler: knowledgeHistory },
  { method: "GET", pattern: ["actions", ":id"], handler: oneAction },
  ...feedbackRoutes,
  ...correctionRoutes,
  ...replayRoutes,
  ...actionRoutes,
  ...overviewRoutes,
  ...auditRoutes,
  ...knowledgeWriteRoutes,
  ...monitorRoutes,
  ...jobRoutes,
  ...financeRoutes,
];

/**
 * The HTTP API under /v0: the review queue, the knowledge base and the action log, over the
 * same library calls as the CLI. JSON in and out; errors are {"error": message, "code"} with the
 * NightshiftError's status. The gateway puts its token check in front of it.
 */
export function createApiHandler(options: ApiDeps): ApiRequestHandler {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const stores =
    options.stores ??
    new SqliteActionLedger(options.ledger, false, { monitorHost: options.config.monitor.host });
  const review =
    options.review ??
    new ReviewQueue(stores, options.handlers ? { handlers: options.handlers } : {});
  const deps: Deps = { ...options, review, stores };
  return async (req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const raw = url.pathname.split("/").filter((s) => s !== "");
    if (raw[0] !== "v0") return false;
    try {
      const segments = raw.slice(1).map(decodeSegment);
      const method = req.method ?? "GET";
      const { route, params } = match(method, segments, url.pathname, res);
      const body = await route.handler(
        { method, segments: params, query: url.searchParams, req },
        deps,
      );
      sendJson(res, 200, body);
    } catch (error) {
      sendError(res, error, log);
    }
    return true;
  };
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new NightshiftError(`malformed percent-encoding in the path: ${segment}`);
  }
}

/** Finds the route; params are the values of its ":name" segments, in order. */
function match(method: string, segments: string[], path: string, res: ServerResponse) {
  const fits = routes.filter(
    (r) =>
      r.pattern.length === segments.length &&
      r.pattern.every((p, i) => p.startsWith(":") || p === segments[i]),
  );
  const route = fits.find((r) => r.method === method);
  if (route) {
    const params = route.pattern.flatMap((p, i) => (p.startsWith(":") ? [segments[i]!] : []));
    return { route, params };
  }
  if (fits.length > 0) {
    const allowed = [...new Set(fits.map((r) => r.method))];
    res.setHeader("allow", allowed.join(", "));
    throw new NightshiftError(`${method} ${path} is not supported; use ${allowed.join(" or ")}`, {
      status: 405,
      code: "method_not_allowed",
    });
  }
  throw new NotFoundError(
    `no such API endpoint: ${method} ${path} (see the README's /v0 reference)`,
  );
}

async function health(_r: Request, deps: Deps) {
  return {
    status: "ok",
    version: VERSION,
    ledger_bytes: deps.ledger.sizeBytes(),
    review_open: await deps.review.store.count("open"),
    embeddings: deps.kb.embedder ? deps.kb.embedder.model : null,
  };
}

function itemId(r: Request): number {
  const raw = r.segments[0]!;
  const id = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(id) || id < 1) {
    throw new NotFoundError(`no review item "${raw}"; ids are numbers (GET /v0/review lists them)`);
  }
  return id;
}

async function oneReviewItem(r: Request, deps: Deps) {
  return reviewItemToJson(await deps.review.require(itemId(r)));
}

async function listReview(r: Request, deps: Deps) {
  const status = r.query.get("status") ?? "open";
  if (status !== "all" && !REVIEW_STATUSES.includes(status)) {
    throw new NightshiftError(
      `status=${status}: use one of ${[...REVIEW_STATUSES, "all"].join(", ")}`,
    );
  }
  const agent = r.query.get("agent");
  const items = await deps.review.store.list({
    ...(status === "all" ? {} : { status: status as ReviewStatus }),
    ...(agent ? { agent } : {}),
    limit: intParam(r.query, "limit", 100, 1000),
  });
  return { items: items.map(reviewItemToJson) };
}

async function decide(r: Request, deps: Deps) {
  const id = itemId(r);
  const decision = DECISIONS[r.segments[1]!];
  if (!decision) {
    throw new NotFoundError(`no such decision "${r.segments[1]}"; POST to accept, reject or edit`);
  }
  const body = await readJsonBody(r.req);
  const by = stringField(body, "by") ?? headerPerson(r.req) ?? "api";
  const reason = stringField(body, "reason");
  if (decision === "edit" && !("output" in body)) {
    throw new NightshiftError('edit needs the corrected output: {"output": ...}');
  }
  const result = await deps.review.decide(id, decision, body.output, { by, reason });
  return { ...reviewItemToJson(result.item), applied: result.applied, note: result.note };
}

function stringField(body: Record<string, unknown>, name: string): string | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw new NightshiftError(`"${name}" must be a string`);
  return value;
}

function headerPerson(req: IncomingMessage): string | undefined {
  const value = req.headers["x-nightshift-person"];
  return typeof value === "string" && value.trim() ? value.trim() : undefined;
}

async function knowledge(r: Request, deps: Deps) {
  const scope = r.query.get("scope");
  const agent = r.query.get("agent");
  const q = r.query.get("q");
  const limit = intParam(r.query, "limit", q ? 10 : 500, 1000);
  if (!q) {
    const entries = await deps.kb.list({ ...(scope ? { scope } : {}), limit });
    return { entries: entries.map(knowledgeEntryToJson) };
  }
  const scopes = scope ? [scope] : agent ? [agent, SHARED_SCOPE] : undefined;
  return deps.kb.searchDetailed({ text: q, ...(scopes ? { scopes } : {}), limit });
}

async function knowledgeEntry(r: Request, deps: Deps) {
  const [scope, key] = r.segments as [string, string];
  const history = await deps.kb.history(scope, key);
  if (history.length === 0) throw new NotFoundError(`no knowledge entry ${scope}/${key}`);
  const wanted = r.query.get("version");
  const entry =
    wanted === null ? history.at(-1)! : history.find((v) => String(v.version) === wanted);
  if (!entry) {
    throw new NotFoundError(`${scope}/${key} has no version ${wanted} (1 to ${history.length})`);
  }
  return { ...knowledgeEntryToJson(entry), versions: history.length };
}

async function knowledgeHistory(r: Request, deps: Deps) {
  const [scope, key] = r.segments as [string, string];
  const history = await deps.kb.history(scope, key);
  if (history.length === 0) throw new NotFoundError(`no knowledge entry ${scope}/${key}`);
  return { versions: history.map(knowledgeEntryToJson) };
}

export function actionReads(deps: Deps): ActionReads {
  return deps.actionReads ?? new SqliteActionReads(deps.ledger.actions);
}

async function oneAction(r: Request, deps: Deps) {
  const id = r.segments[0]!;
  const action = await actionReads(deps).find(id);
  if (!action)
    throw new NotFoundError(`no action ${id} (an id or a unique prefix of 8+ characters)`);
  return {
    ...actionToJson(action),
    review_items: (await deps.review.itemsFor(action.id)).map(reviewItemToJson),
    feedback: (await feedbackFor(ledgerStores(deps), action.id)).map(feedbackToJson),
    ...(await actionAuditToJson(auditStore(deps), action.id)),
  };
}
