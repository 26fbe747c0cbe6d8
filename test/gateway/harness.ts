import { type Config, parseConfig } from "../../src/config.js";
import { type Gateway, startGateway } from "../../src/gateway/server.js";
import type { Action } from "../../src/ledger/actions.js";
import type { Ledger } from "../../src/ledger/ledger.js";
import { UserActivity } from "../../src/monitor/activity.js";
import {
  type ScriptedUpstream,
  type ScriptedUpstreamOptions,
  startScriptedUpstream,
} from "../support/scripted-upstream.js";
import { tempLedger } from "../support/temp-ledger.js";

export interface Harness {
  upstream: ScriptedUpstream;
  gateway: Gateway;
  ledger: Ledger;
  activity: UserActivity;
  /** The action ids the gateway answered with, in order (from X-Nightshift-Action). */
  seen: string[];
  /** A fetch that records X-Nightshift-Action, for clients that hide response headers. */
  fetch: typeof fetch;
  waitForAction(id: string): Promise<Action>;
  close(): Promise<void>;
}

/** A scripted upstream, a real ledger in a temp dir, and the gateway in front, on port 0. */
export async function startHarness(
  options: { upstream?: ScriptedUpstreamOptions; config?: (upstreamUrl: string) => unknown } = {},
): Promise<Harness> {
  const upstream = await startScriptedUpstream(options.upstream);
  const temp = tempLedger();
  const raw = options.config?.(upstream.url) ?? { upstreams: { default: upstream.url } };
  const config: Config = parseConfig(raw);
  const activity = new UserActivity(config.monitor.background_agents);
  const gateway = await startGateway({ config, ledger: temp.ledger, activity, port: 0 });
  const seen: string[] = [];
  const recordingFetch: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    const id = response.headers.get("x-nightshift-action");
    if (id) seen.push(id);
    return response;
  };
  return {
    upstream,
    gateway,
    ledger: temp.ledger,
    activity,
    seen,
    fetch: recordingFetch,
    waitForAction: (id) => waitForAction(temp.ledger, id),
    async close() {
      await gateway.close(100);
      await upstream.close();
      temp.cleanup();
    },
  };
}

/** The action once the batched writer has committed it (the gateway writes when a reply ends). */
export async function waitForAction(
  ledger: Ledger,
  id: string,
  timeoutMs = 30_000,
): Promise<Action> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    ledger.writer.flush();
    const action = ledger.actions.get(id);
    if (action) return action;
    if (Date.now() > deadline) throw new Error(`action ${id} never reached the ledger`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Waits until `count` actions are in the ledger. */
export async function waitForCount(
  ledger: Ledger,
  count: number,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    ledger.writer.flush();
    const n = ledger.actions.count();
    if (n >= count) return;
    if (Date.now() > deadline) throw new Error(`only ${n} of ${count} actions reached the ledger`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
