import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { NightshiftError } from "../errors.js";

/** Built by src/web/build-assets.mjs; the same path from src/web and from dist/web. */
const ASSETS_DIR = fileURLToPath(new URL("../../dist/web/assets/", import.meta.url));

/**
 * Scripts and styles only from this origin, no inline code, no framing, no other hosts: the
 * page shows prompts and replies that may hold anything, and nothing in them may run.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join("; ");

export const SECURITY_HEADERS: Record<string, string> = {
  "content-security-policy": CONTENT_SECURITY_POLICY,
  "x-content-type-options": "nosniff",
  // Not no-referrer: under it Chromium sends "Origin: null" with the login form, which the guard refuses.
  "referrer-policy": "same-origin",
  "x-frame-options": "DENY",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
};

const TYPES: Record<string, string> = {
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  html: "text/html; charset=utf-8",
};

interface Asset {
  body: Buffer;
  gzip: Buffer;
  type: string;
  etag: string;
}

/**
 * The page's files, read once at start. Hashed names (app-3FQ2.js) are cached for a year; the
 * HTML shell is revalidated by ETag, so a rebuilt page is picked up on the next load.
 */
export class Assets {
  private readonly files = new Map<string, Asset>();
  readonly shell: Asset;
  /** The stylesheet's URL, for pages served outside the shell (the login form). */
  readonly cssHref: string | null;

  constructor(dir = ASSETS_DIR) {
    const manifestPath = join(dir, "manifest.json");
    if (!existsSync(manifestPath)) {
      throw new NightshiftError(
        `the dashboard is not built (${manifestPath} is missing); run \`npm run build\``,
        { status: 503, code: "not_built" },
      );
    }
    const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as {
      files: Record<string, string>;
      preload?: string[];
    };
    for (const name of Object.values(manifest.files)) {
      const ext = name.slice(name.lastIndexOf(".") + 1);
      this.files.set(
        name,
        asset(readFileSync(join(dir, name)), TYPES[ext] ?? "application/octet-stream"),
      );
    }
    const js = manifest.files["app.js"];
    const css = manifest.files["app.css"];
    this.cssHref = css ? `/ui/assets/${css}` : null;
    this.shell = asset(Buffer.from(shellHtml(js, css, manifest.preload ?? [])), TYPES.html!);
  }

  /** Serves /ui/assets/NAME; false when there is no such file. */
  serveFile(name: string, req: IncomingMessage, res: ServerResponse): boolean {
    const file = this.files.get(name);
    if (!file) return false;
    send(req, res, file, "public, max-age=31536000, immutable");
    return true;
  }

  serveShell(req: IncomingMessage, res: ServerResponse): void {
    send(req, res, this.shell, "no-cache");
  }
}

function asset(body: Buffer, type: string): Asset {
  const etag = `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"`;
  return { body, gzip: gzipSync(body), type, etag };
}

function send(req: IncomingMessage, res: ServerResponse, file: Asset, cacheControl: string): void {
  const headers: Record<string, string | number> = {
    ...SECURITY_HEADERS,
    "content-type": file.type,
    "cache-control": cacheControl,
    etag: file.etag,
    vary: "accept-encoding",
  };
  if (req.headers["if-none-match"] === file.etag) {
    res.writeHead(304, headers).end();
    return;
  }
  const gzip = /\bgzip\b/.test(String(req.headers["accept-encoding"] ?? ""));
  const body = gzip ? file.gzip : file.body;
  if (gzip) headers["content-encoding"] = "gzip";
  headers["content-length"] = body.length;
  res.writeHead(200, headers);
  res.end(req.method === "HEAD" ? undefined : body);
}

function shellHtml(js: string | undefined, css: string | undefined, preload: string[]): string {
  const preloads = preload.map((name) => `<link rel="modulepreload" href="/ui/assets/${name}">`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>nightshift</title>
${css ? `<link rel="stylesheet" href="/ui/assets/${css}">` : ""}
${js ? `<script type="module" src="/ui/assets/${js}"></script>` : ""}
${preloads.join("\n")}
</head>
<body>
<div id="app"><p class="boot">Loading nightshift…</p></div>
</body>
</html>
`;
}
