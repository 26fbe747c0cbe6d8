import { z } from "zod";
import type { KnowledgeBase, Provenance } from "../../knowledge/kb.js";
import type { KnownLayout } from "./csv.js";

/**
 * CSV layouts that passed the checks, remembered in the knowledge base (scope "finance") under
 * the header signature of the bank's export: the next file from that bank imports without a
 * model, and the night shift can review, correct or roll the entry back like any other.
 */
const SCOPE = "finance";
const PREFIX = "csv-layout:";

const layoutSchema = z.object({
  date: z.string(),
  description: z.string(),
  amount: z.string().optional(),
  debit: z.string().optional(),
  credit: z.string().optional(),
  balance: z.string().optional(),
  sign: z.string().optional(),
  id: z.string().optional(),
  date_format: z.string().optional(),
  decimal: z.enum([".", ","]).optional(),
});
const entrySchema = z.object({ signature: z.string(), layout: layoutSchema });

export async function rememberedLayouts(kb: KnowledgeBase): Promise<KnownLayout[]> {
  const known: KnownLayout[] = [];
  for (const entry of await kb.list({ scope: SCOPE })) {
    if (!entry.key.startsWith(PREFIX)) continue;
    const parsed = entrySchema.safeParse(entry.data);
    if (parsed.success)
      known.push({
        source: "knowledge",
        layout: parsed.data.layout,
        signature: parsed.data.signature,
      });
  }
  return known;
}

export async function rememberLayout(
  kb: KnowledgeBase,
  known: KnownLayout,
  provenance: Provenance,
): Promise<void> {
  if (!known.signature) return;
  const roles = Object.entries(known.layout)
    .map(([role, column]) => `${role}=${column}`)
    .join(", ");
  await kb.put(
    {
      scope: SCOPE,
      key: `${PREFIX}${known.signature}`,
      content: `CSV exports with the header "${known.signature}" are read with the layout ${roles}.`,
      data: { signature: known.signature, layout: known.layout },
    },
    provenance,
  );
}
