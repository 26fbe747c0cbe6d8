import type { IncomingMessage } from "node:http";
import { isIP } from "node:net";
import { hostname } from "node:os";
import { NightshiftError } from "../errors.js";

/**
 * Host and Origin checks for /v0 and /ui. A web page the user visits must not reach the daemon
 * through the browser: a foreign Origin is refused, and so is a Host name that is not this
 * machine's (DNS rebinding points an attacker's name at 127.0.0.1; IP literals cannot be
 * rebound). Self-contained so it can later be pointed at the gateway's shared guard.
 */
export function checkHostAndOrigin(req: IncomingMessage, extraHosts: readonly string[] = []): void {
  const host = req.headers.host;
  if (!host || !isOwnHost(host, extraHosts)) {
    throw new NightshiftError(
      `Host "${host ?? ""}" is not this machine's name; open the dashboard as http://127.0.0.1:PORT/ui`,
      { status: 403, code: "forbidden_host" },
    );
  }
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== `http://${host}` && origin !== `https://${host}`) {
    throw new NightshiftError(
      `requests from ${origin} are refused: only the dashboard's own pages may call this API`,
      {
        status: 403,
        code: "forbidden_origin",
      },
    );
  }
  if (req.headers["sec-fetch-site"] === "cross-site") {
    throw new NightshiftError("cross-site requests are refused", {
      status: 403,
      code: "forbidden_origin",
    });
  }
}

/** An IP literal, localhost, this machine's hostname (or .local), or one of `extraHosts`. */
export function isOwnHost(hostHeader: string, extraHosts: readonly string[] = []): boolean {
  const name = stripPort(hostHeader).toLowerCase();
  if (name === "") return false;
  if (isIP(name.replace(/^\[|\]$/g, "")) !== 0) return true;
  const own = hostname().toLowerCase();
  const names = ["localhost", own, `${own}.local`, ...extraHosts.map((h) => h.toLowerCase())];
  return names.includes(name) || name.endsWith(".localhost");
}

function stripPort(host: string): string {
  if (host.startsWith("[")) return host.slice(0, host.indexOf("]") + 1);
  const colon = host.lastIndexOf(":");
  return colon === -1 ? host : host.slice(0, colon);
}
