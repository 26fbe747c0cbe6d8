import type { GpuReading } from "../../ledger/stores/monitor.js";

/** The query the sampler runs; the parser expects these columns in this order. */
export const NVIDIA_SMI_ARGS = [
  "--query-gpu=index,utilization.gpu,memory.used,memory.total,power.draw,temperature.gpu",
  "--format=csv,noheader,nounits",
];

/**
 * Parses `nvidia-smi --query-gpu=... --format=csv,noheader,nounits`: one line per GPU, values
 * separated by ", ". A field the card does not report reads "[N/A]" (or "[Not Supported]"),
 * which becomes null rather than a made-up zero.
 */
export function parseNvidiaSmiCsv(text: string): GpuReading[] {
  const gpus: GpuReading[] = [];
  for (const [n, raw] of text.split("\n").entries()) {
    const line = raw.trim();
    if (!line) continue;
    const fields = line.split(",").map((f) => f.trim());
    if (fields.length < 6) {
      throw new Error(`nvidia-smi output line ${n + 1}: expected 6 fields, got "${line}"`);
    }
    const index = value(fields[0]!);
    if (index === null || !Number.isInteger(index)) {
      throw new Error(`nvidia-smi output line ${n + 1}: no GPU index in "${line}"`);
    }
    gpus.push({
      index,
      vendor: "nvidia",
      utilPct: value(fields[1]!),
      memUsedMb: value(fields[2]!),
      memTotalMb: value(fields[3]!),
      powerW: value(fields[4]!),
      tempC: value(fields[5]!),
    });
  }
  return gpus;
}

function value(field: string): number | null {
  if (field === "" || field.startsWith("[") || /^n\/?a$/i.test(field)) return null;
  const parsed = Number(field);
  return Number.isFinite(parsed) ? parsed : null;
}
