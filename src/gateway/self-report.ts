import type { IncomingHttpHeaders } from "node:http";
import { NightshiftError } from "../errors.js";

/**
 * What a plain client (the `ollama` or `openai` library, curl, n8n) says about its own call, in
 * request headers, so the night audit treats it like a runtime stage's: how sure it was, flags
 * asking for review, and a key naming the input so history by input works.
 */
export interface SelfReport {
  confidence: number | null;
  flags: string[];
  inputKey: string | null;
}

export const CONFIDENCE_HEADER = "x-nightshift-confidence";
export const FLAGS_HEADER = "x-nightshift-flags";
export const INPUT_KEY_HEADER = "x-nightshift-input-key";

/** A flag is a short identifier: letters, digits and _ . : - (as the runtime's flags are). */
export const FLAG_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,63}$/;
export const MAX_FLAGS = 16;
const MAX_INPUT_KEY = 256;

export const NO_REPORT: SelfReport = { confidence: null, flags: [], inputKey: null };

/**
 * Reads the three headers. A confidence under `threshold` adds low_confidence and requires_audit,
 * exactly as a runtime stage under its threshold is flagged, so the audit selects it every run.
 * Bad values throw a 400 naming the header and what is wrong; nothing is logged for them.
 */
export function readSelfReport(headers: IncomingHttpHeaders, threshold: number): SelfReport {
  const rawConfidence = single(headers[CONFIDENCE_HEADER]);
  const rawFlags = single(headers[FLAGS_HEADER]);
  const rawKey = single(headers[INPUT_KEY_HEADER]);
  if (rawConfidence === undefined && rawFlags === undefined && rawKey === undefined) {
    return NO_REPORT;
  }
  const confidence =
    rawConfidence === undefined ? null : parseConfidence(rawConfidence, "X-Nightshift-Confidence");
  const flags = rawFlags === undefined ? [] : parseFlags(rawFlags.split(","), "X-Nightshift-Flags");
  if (confidence !== null && confidence < threshold) flags.push(...flagsUnder());
  return { confidence, flags: [...new Set(flags)], inputKey: parseInputKey(rawKey) };
}

/** The flags a confidence under the threshold earns (see runtime/stage-run.ts). */
export function flagsUnder(): string[] {
  return ["low_confidence", "requires_audit"];
}

/** A number from 0 to 1, given as a string (a header) or a JSON number. */
export function parseConfidence(raw: unknown, where: string): number {
  const text = typeof raw === "string" ? raw.trim() : raw;
  const value = typeof text === "number" ? text : text === "" ? Number.NaN : Number(text);
  if (!Number.isFinite(value) || value < 0 || value > 1) {
    throw new NightshiftError(
      `${where}: ${JSON.stringify(raw)} is not a confidence; send a number from 0 to 1, e.g. 0.72`,
      { code: "bad_confidence" },
    );
  }
  return value;
}

/** Flag names, trimmed; empty entries of a comma list are ignored. */
export function parseFlags(raw: unknown[], where: string): string[] {
  const flags = raw
    .map((f) => (typeof f === "string" ? f.trim() : f))
    .filter((f) => f !== "") as unknown[];
  for (const flag of flags) {
    if (typeof flag !== "string" || !FLAG_PATTERN.test(flag)) {
      throw new NightshiftError(
        `${where}: ${JSON.stringify(flag)} is not a flag name; use letters, digits and _ . : - (up to 64), e.g. low_confidence,requires_audit`,
        { code: "bad_flags" },
      );
    }
  }
  if (flags.length > MAX_FLAGS) {
    throw new NightshiftError(`${where}: ${flags.length} flags; at most ${MAX_FLAGS}`, {
      code: "bad_flags",
    });
  }
  return flags as string[];
}

function parseInputKey(raw: string | undefined): string | null {
  if (raw === undefined) return null;
  const key = raw.trim();
  // Printable ASCII only: Node already refuses control characters in header values.
  if (key === "" || key.length > MAX_INPUT_KEY || !/^[\x20-\x7e]+$/.test(key)) {
    throw new NightshiftError(
      `X-Nightshift-Input-Key: must be 1 to ${MAX_INPUT_KEY} printable ASCII characters (a hash of the input or an id of yours)`,
      { code: "bad_input_key" },
    );
  }
  return key;
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(",") : value;
}
