import { NightshiftError } from "../errors.js";
import { knowledgeEntryToJson } from "../knowledge/kb.js";
import { readJsonBody } from "./http.js";
import type { Deps, Request, Route } from "./route-types.js";

/**
 * Changes to the knowledge base, as the CLI's `kb rollback` and `kb revert-run` make them. Each
 * is recorded as a new version with the person (body "by", header X-Nightshift-Person, else
 * "api") as its provenance, so `kb history` shows who did it.
 */
export const knowledgeWriteRoutes: Route[] = [
  { method: "POST", pattern: ["kb", ":scope", ":key", "rollback"], handler: rollback },
  { method: "POST", pattern: ["audit", "runs", ":id", "revert-knowledge"], handler: revertRun },
];

async function rollback(r: Request, deps: Deps) {
  const [scope, key] = r.segments as [string, string];
  const body = await readJsonBody(r.req);
  const version = body.version;
  if (typeof version !== "number" || !Number.isInteger(version) || version < 1) {
    throw new NightshiftError('rollback needs the version to restore: {"version": 2}');
  }
  const entry = await deps.kb.rollback(scope, key, version, {
    kind: "person",
    ref: personOf(r, body),
  });
  return knowledgeEntryToJson(entry);
}

async function revertRun(r: Request, deps: Deps) {
  const body = await readJsonBody(r.req);
  const report = await deps.kb.revertRun(r.segments[0]!, {
    kind: "person",
    ref: personOf(r, body),
  });
  return {
    run_id: report.runId,
    reverted: report.reverted,
    skipped: report.skipped,
  };
}

/** Who made the change: the body's "by", the X-Nightshift-Person header, else "api". */
export function personOf(r: Request, body: Record<string, unknown>): string {
  if (body.by !== undefined) {
    if (typeof body.by !== "string" || body.by.trim() === "") {
      throw new NightshiftError('"by" must be a non-empty string (who makes the change)');
    }
    return body.by.trim();
  }
  const header = r.req.headers["x-nightshift-person"];
  return typeof header === "string" && header.trim() ? header.trim() : "api";
}
