import type { IncomingMessage } from "node:http";
import { systemClock } from "../clock.js";
import { feedbackToJson, giveFeedback, parseFeedbackBody } from "../plain-agents/feedback.js";
import { readJsonBody } from "./http.js";
import { ledgerStores } from "./ledger-stores.js";
import type { ApiDeps } from "./route-types.js";

/** The shape of handler.ts's routes, for route files of their own. */
export interface ApiRoute {
  method: "GET" | "POST";
  pattern: string[];
  handler: (
    r: { segments: string[]; query: URLSearchParams; req: IncomingMessage },
    deps: ApiDeps,
  ) => unknown | Promise<unknown>;
}

/**
 * POST /v0/actions/:id/feedback: confidence, flags, reasoning and named scores about an action
 * after the fact, from a person, an eval or the agent itself.
 */
export const feedbackRoutes: ApiRoute[] = [
  {
    method: "POST",
    pattern: ["actions", ":id", "feedback"],
    handler: async (r, deps) => {
      const fields = parseFeedbackBody(await readJsonBody(r.req));
      const by = personOf(r.req) ?? agentOf(r.req) ?? "api";
      const { action, feedback } = await giveFeedback(
        {
          ledger: ledgerStores(deps),
          clock: deps.clock ?? systemClock,
          threshold: deps.config.runtime.confidence_threshold,
        },
        r.segments[0]!,
        fields,
        by,
      );
      return {
        feedback: feedbackToJson(feedback),
        action: {
          id: action.id,
          confidence: action.confidence,
          flags: action.flags,
          audit_status: action.auditStatus,
        },
      };
    },
  },
];

function personOf(req: IncomingMessage): string | undefined {
  const value = req.headers["x-nightshift-person"];
  return typeof value === "string" && value.trim() ? value.trim() : undefined;
}

function agentOf(req: IncomingMessage): string | undefined {
  const value = req.headers["x-nightshift-agent"];
  return typeof value === "string" && value.trim() ? value.trim() : undefined;
}
