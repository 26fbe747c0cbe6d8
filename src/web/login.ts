import type { IncomingMessage } from "node:http";
import { NightshiftError } from "../errors.js";

const MAX_FORM_BYTES = 4096;

/** The login form: plain HTML that works without scripts, styled by the page's own rules. */
export function loginPage(error: string | null, cssHref: string | null): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>nightshift — log in</title>
${cssHref ? `<link rel="stylesheet" href="${cssHref}">` : ""}</head>
<body>
<main class="login">
<h1>nightshift</h1>
<form method="post" action="/ui/login">
<p><label for="token">Token (NIGHTSHIFT_TOKEN or server.token)</label><br>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus></p>
${error ? `<p role="alert"><strong>${escapeHtml(error)}</strong></p>` : ""}
<p><button type="submit">Log in</button></p>
</form>
</main>
</body></html>
`;
}

/** Reads `token` from an application/x-www-form-urlencoded body (or a JSON one, for scripts). */
export async function readLoginForm(req: IncomingMessage): Promise<string> {
  const type = String(req.headers["content-type"] ?? "")
    .split(";")[0]!
    .trim()
    .toLowerCase();
  const raw = await readSmallBody(req);
  if (type === "application/json") {
    let parsed: { token?: unknown } | null;
    try {
      parsed = JSON.parse(raw || "{}") as { token?: unknown } | null;
    } catch (error) {
      throw new NightshiftError(`login body is not valid JSON: ${(error as Error).message}`);
    }
    return typeof parsed?.token === "string" ? parsed.token : "";
  }
  if (type !== "application/x-www-form-urlencoded") {
    throw new NightshiftError(
      `log in with a form or JSON body (got content-type "${type || "none"}")`,
      {
        status: 415,
        code: "unsupported_media_type",
      },
    );
  }
  return new URLSearchParams(raw).get("token") ?? "";
}

function readSmallBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_FORM_BYTES) {
        req.destroy();
        reject(new NightshiftError("login form too large", { status: 413, code: "too_large" }));
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
