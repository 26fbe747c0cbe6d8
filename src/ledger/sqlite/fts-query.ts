import { searchWords } from "../stores/knowledge.js";

/**
 * Turns arbitrary text into a safe FTS5 query: its words, each a quoted string, joined by OR so
 * any word can match and bm25 ranks entries sharing more (and rarer) words first. User text is
 * never FTS syntax: quotes, NEAR, *, ^, column filters and parentheses become plain words or
 * disappear. Returns undefined when no word is left.
 */
export function toFtsQuery(text: string): string | undefined {
  const words = searchWords(text);
  if (words.length === 0) return undefined;
  // The words hold no double quotes (searchWords keeps letters and digits), so quoting is enough.
  return words.map((word) => `"${word}"`).join(" OR ");
}
