import { request } from "node:http";
import { join } from "node:path";
import { loadConfig } from "../../src/config.js";
import { type Daemon, startDaemon } from "../../src/daemon.js";
import {
  type ScriptedUpstream,
  type ScriptedUpstreamOptions,
  startScriptedUpstream,
} from "../support/scripted-upstream.js";
import { tempHome } from "../support/temp-ledger.js";

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: unknown;
  /** X-Nightshift-Action: the action the answer was logged as. */
  action: string | null;
}

export interface Sent {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export interface HostileRig {
  daemon: Daemon;
  upstream: ScriptedUpstream;
  home: string;
  lines: string[];
  send(sent: Sent): Promise<Reply>;
  /** Ids answered but not in the ledger (after a flush); [] when every answer was logged. */
  unlogged(ids: readonly string[]): string[];
  close(): Promise<void>;
}

/**
 * The real daemon (gateway, API, ledger on a real file) in this process, on port 0, in front of
 * the scripted upstream, with the monitor and scheduler off. Requests go out through node:http so
 * a test can send what fetch would refuse or rewrite: a foreign Host, a raw `..`, bad escapes.
 */
export async function startHostileRig(
  options: {
    upstream?: ScriptedUpstreamOptions;
    config?: (raw: Record<string, unknown>, upstreamUrl: string) => void;
  } = {},
): Promise<HostileRig> {
  const upstream = await startScriptedUpstream(options.upstream);
  const temp = tempHome("nightshift-hostile-");
  const loaded = loadConfig({
    env: { NIGHTSHIFT_HOME: temp.home, NIGHTSHIFT_UPSTREAM: upstream.url },
    overrides: (raw) => {
      raw.monitor = { enabled: false };
      raw.scheduler = { enabled: false };
      options.config?.(raw, upstream.url);
    },
  });
  loaded.config.ledger.flush_interval_ms = 5;
  const lines: string[] = [];
  const daemon = await startDaemon(loaded, { port: 0, log: (line) => lines.push(line) });
  const port = daemon.gateway.port;
  return {
    daemon,
    upstream,
    home: temp.home,
    lines,
    send: (sent) => send(port, sent),
    unlogged(ids) {
      daemon.ledger.writer.flush();
      return ids.filter((id) => daemon.ledger.actions.get(id) === undefined);
    },
    async close() {
      await daemon.stop();
      await upstream.close();
      temp.cleanup();
    },
  };
}

export function dbPathOf(home: string): string {
  return join(home, "nightshift.db");
}

export function send(port: number, sent: Sent): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        method: sent.method ?? (sent.body === undefined ? "GET" : "POST"),
        path: sent.path,
        headers: { host: `127.0.0.1:${port}`, ...(sent.headers ?? {}) },
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on("data", (chunk: Buffer) => parts.push(chunk));
        res.on("error", reject);
        res.on("end", () => {
          const text = Buffer.concat(parts).toString("utf8");
          let json: unknown = null;
          try {
            json = JSON.parse(text);
          } catch {}
          const action = res.headers["x-nightshift-action"];
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text,
            json,
            action: typeof action === "string" ? action : null,
          });
        });
      },
    );
    req.on("error", reject);
    req.end(sent.body);
  });
}
