import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { isIP } from "node:net";
import { ConfigError } from "../errors.js";

/** 127.0.0.0/8, ::1 and "localhost": addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, "").toLowerCase();
  if (bare === "localhost" || bare === "::1") return true;
  if (bare.startsWith("::ffff:")) return isLoopback(bare.slice("::ffff:".length));
  return isIP(bare) === 4 && bare.startsWith("127.");
}

/**
 * The ledger holds every prompt and reply, so the gateway is never reachable from the network
 * without a token: refuse to start rather than expose it by a typo in `host`.
 */
export function checkBindSecurity(host: string, token: string | undefined): void {
  if (isLoopback(host) || token) return;
  throw new ConfigError(
    `refusing to listen on ${host} without a token: anyone on the network could use your models ` +
      "and read the ledger. Set NIGHTSHIFT_TOKEN (16+ characters) or server.token, or listen on 127.0.0.1",
  );
}

/** A check of `Authorization: Bearer <token>`; null when no token is configured. */
export function bearerCheck(token: string | undefined): ((req: IncomingMessage) => boolean) | null {
  if (!token) return null;
  const expected = Buffer.from(token);
  return (req) => {
    const header = req.headers.authorization;
    if (!header || !/^bearer /i.test(header)) return false;
    const given = Buffer.from(header.slice(7).trim());
    // Constant time, so the token cannot be guessed byte by byte from response timings.
    return given.length === expected.length && timingSafeEqual(given, expected);
  };
}
