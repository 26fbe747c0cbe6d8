import type { ApiFlavor } from "../replies.js";

/** How the gateway treats one path: what the action is called and where its model comes from. */
export interface Route {
  flavor: ApiFlavor;
  actionType: string;
  /** Read and parse the body as JSON (to route by model and log it); else stream it through. */
  json: boolean;
  /** Model inference: counts as user activity. */
  interactive: boolean;
  /** Health probes are forwarded but not logged. */
  logged: boolean;
  /** A listing merged across all upstreams: the list key and each entry's name field. */
  merge?: { key: string; name: string };
  modelOf: (body: Record<string, unknown>, path: string) => string | null;
}

export function bodyModel(body: Record<string, unknown>): string | null {
  for (const key of ["model", "name", "source"]) {
    const value = body[key];
    if (typeof value === "string" && value) return value;
  }
  return null;
}

export const noModel = (): null => null;
