import type { GpuReading } from "../../ledger/stores/monitor.js";

/** The query the sampler runs: use, VRAM, power and temperature as JSON. */
export const ROCM_SMI_ARGS = [
  "--showuse",
  "--showmeminfo",
  "vram",
  "--showpower",
  "--showtemp",
  "--json",
];

/**
 * Parses `rocm-smi ... --json`: an object keyed "card0", "card1", ... whose values are strings
 * under labels that vary between ROCm releases ("Average Graphics Package Power (W)" became
 * "Current Socket Graphics Package Power (W)"), so fields are found by pattern, not exact name.
 */
export function parseRocmSmiJson(text: string): GpuReading[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`rocm-smi printed no JSON: ${(error as Error).message}`);
  }
  if (!parsed || typeof parsed !== "object") return [];
  const gpus: GpuReading[] = [];
  for (const [key, fields] of Object.entries(parsed as Record<string, unknown>)) {
    const card = /^card(\d+)$/.exec(key);
    if (!card || !fields || typeof fields !== "object") continue;
    const entries = Object.entries(fields as Record<string, unknown>);
    const find = (pattern: RegExp) => {
      const hit = entries.find(([label]) => pattern.test(label));
      return hit ? numeric(hit[1]) : null;
    };
    const totalB = find(/^VRAM Total Memory \(B\)$/i);
    const usedB = find(/^VRAM Total Used Memory \(B\)$/i);
    gpus.push({
      index: Number(card[1]),
      vendor: "amd",
      utilPct: find(/^GPU use \(%\)$/i),
      memUsedMb: usedB === null ? null : usedB / 1048576,
      memTotalMb: totalB === null ? null : totalB / 1048576,
      powerW: find(/Package Power \(W\)$/i) ?? find(/Power \(W\)$/i),
      tempC: find(/^Temperature \(Sensor edge\) \(C\)$/i) ?? find(/^Temperature .*\(C\)$/i),
    });
  }
  return gpus.sort((a, b) => a.index - b.index);
}

function numeric(value: unknown): number | null {
  if (typeof value === "number") return Number.isFinite(value) ? value : null;
  if (typeof value !== "string") return null;
  const parsed = Number.parseFloat(value);
  return Number.isFinite(parsed) ? parsed : null;
}
