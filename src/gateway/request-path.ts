import { NightshiftError } from "../errors.js";

/** A request target split and normalized: what the gateway routes on and forwards. */
export interface RequestTarget {
  /** Absolute path, dot-segments resolved, duplicate slashes kept as sent, still percent-encoded. */
  path: string;
  /** "?..." or "". */
  query: string;
}

const BAD_PERCENT = /%(?![0-9a-fA-F]{2})/;

/**
 * Splits `req.url` and resolves its dot-segments (RFC 3986 §5.2.4) before anything routes on it,
 * so `/api/../../etc/passwd` becomes `/etc/passwd` here and can never climb out of an upstream's
 * base path when forwarded. Percent-encoded dots count as dots: a proxy behind us may decode
 * them. A path whose percent-encoding does not decode (`%ZZ`, a cut UTF-8 sequence) is refused
 * with a 400 here, once, instead of throwing wherever a route first decodes it.
 */
export function parseTarget(rawUrl: string | undefined): RequestTarget {
  const raw = rawUrl ?? "/";
  const queryAt = raw.indexOf("?");
  const rawPath = queryAt === -1 ? raw : raw.slice(0, queryAt);
  const query = queryAt === -1 ? "" : raw.slice(queryAt);
  if (!rawPath.startsWith("/")) {
    throw new NightshiftError(`request target must be an absolute path, got "${clip(rawPath)}"`, {
      code: "bad_path",
    });
  }
  if (BAD_PERCENT.test(rawPath) || decodes(rawPath) === null) {
    throw new NightshiftError(`malformed percent-encoding in the path: ${clip(rawPath)}`, {
      code: "bad_path",
    });
  }
  return { path: removeDotSegments(rawPath), query };
}

export function removeDotSegments(path: string): string {
  const out: string[] = [];
  const segments = path.split("/").slice(1);
  segments.forEach((segment, i) => {
    const dots = segment.replace(/%2e/gi, ".");
    const last = i === segments.length - 1;
    if (dots === ".") {
      if (last) out.push("");
    } else if (dots === "..") {
      out.pop();
      if (last) out.push("");
    } else out.push(segment);
  });
  return `/${out.join("/")}`;
}

/** decodeURIComponent that answers null instead of throwing URIError. */
export function decodes(text: string): string | null {
  try {
    return decodeURIComponent(text);
  } catch {
    return null;
  }
}

function clip(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
