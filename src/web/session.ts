import { createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";

export const SESSION_COOKIE = "nightshift_session";

/**
 * The dashboard's login when a token is configured. The cookie holds an HMAC of the token (never
 * the token itself), so it stays valid across restarts and dies when the token changes. HttpOnly
 * keeps it from scripts; SameSite=Strict keeps other sites' pages from sending it.
 */
export class Sessions {
  private readonly expected: Buffer;
  private readonly token: Buffer;

  constructor(token: string) {
    this.token = Buffer.from(token);
    this.expected = Buffer.from(sessionValue(token));
  }

  /** Bearer token or session cookie. */
  authorized(req: IncomingMessage): boolean {
    const header = req.headers.authorization;
    if (header && /^bearer /i.test(header)) return this.tokenMatches(header.slice(7).trim());
    const cookie = readCookie(req.headers.cookie, SESSION_COOKIE);
    if (cookie === undefined) return false;
    const given = Buffer.from(cookie);
    return given.length === this.expected.length && timingSafeEqual(given, this.expected);
  }

  tokenMatches(candidate: string): boolean {
    const given = Buffer.from(candidate);
    return given.length === this.token.length && timingSafeEqual(given, this.token);
  }

  cookie(secure: boolean): string {
    const flags = `Path=/; HttpOnly; SameSite=Strict; Max-Age=${30 * 86_400}`;
    return `${SESSION_COOKIE}=${this.expected.toString()}; ${flags}${secure ? "; Secure" : ""}`;
  }
}

export function clearedCookie(): string {
  return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`;
}

function sessionValue(token: string): string {
  return createHmac("sha256", token).update("nightshift dashboard session v1").digest("base64url");
}

export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
