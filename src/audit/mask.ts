import { NightshiftError } from "../errors.js";

/**
 * Credentials in URLs (an upstream configured as http://user:pass@host) never appear in what the
 * audit prints or stores: errors quote the URL they failed on, and reports quote errors. The
 * whole user-info part is masked, since a bare `https://TOKEN@host` is a secret too.
 */
const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@"'<>]+@/gi;

export function maskUrlText(text: string): string {
  return text.replace(USERINFO, "$1***@");
}

/** The value with every string in it masked (objects and arrays copied, other values as is). */
export function maskUrlsIn<T>(value: T): T {
  if (typeof value === "string") return maskUrlText(value) as T;
  if (Array.isArray(value)) return value.map((v) => maskUrlsIn(v)) as T;
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([key, v]) => [key, maskUrlsIn(v)])) as T;
  }
  return value;
}

/** The error, or when its message quotes credentials, a NightshiftError saying the same masked. */
export function maskedError(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const message = maskUrlText(error.message);
  if (message === error.message) return error;
  const { status, code } = error as Partial<NightshiftError>;
  return new NightshiftError(message, {
    ...(status !== undefined ? { status } : { status: 500 }),
    ...(code !== undefined ? { code } : { code: "internal" }),
  });
}
