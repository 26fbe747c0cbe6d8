import { NightshiftError } from "../errors.js";

/** Bodies longer than this are trimmed in listings (GET /v0/actions). */
export const LISTED_BODY_CHARS = 4096;

/** An opaque page cursor: the position (started_at, id) of the last action of a page. */
export function encodeCursor(action: { startedAt: number; id: string }): string {
  return Buffer.from(`${action.startedAt}:${action.id}`).toString("base64url");
}

export function decodeCursor(cursor: string): { startedAt: number; id: string } {
  const text = Buffer.from(cursor, "base64url").toString("utf8");
  const match = /^(\d{1,16}):([\w-]{1,64})$/.exec(text);
  if (!match) {
    throw new NightshiftError(
      `cursor=${cursor.slice(0, 80)}: not a cursor from this API (use next_cursor as given)`,
    );
  }
  return { startedAt: Number(match[1]), id: match[2]! };
}
