import { NotFoundError } from "../errors.js";
import type { KnowledgeVersionRow } from "../ledger/stores/knowledge.js";
import type { VersionDraft } from "./draft.js";
import type { Provenance, RevertReport } from "./entry.js";

/**
 * Drafts the undoing of everything one audit run wrote. For each entry whose latest version came
 * from the run, restores the version before the run's first write to it; entries the run created
 * become tombstones. An entry someone else changed after the run (a person, another run) is left
 * alone and reported in `skipped`: their later edit wins over an automatic undo. Reverting twice
 * reverts nothing the second time. Throws NotFoundError if the run wrote no knowledge at all.
 */
export async function draftRevert(
  draft: VersionDraft,
  runId: string,
  provenance: Provenance,
): Promise<RevertReport> {
  const written = await draft.store.bySource("audit_run", runId);
  if (written.length === 0) {
    throw new NotFoundError(`audit run ${runId} wrote no knowledge entries; nothing to revert`);
  }
  const report: RevertReport = { runId, reverted: [], skipped: [] };
  const firsts = new Map<string, KnowledgeVersionRow>();
  for (const row of written) {
    const id = `${row.scope}\u0000${row.key}`;
    if (!firsts.has(id)) firsts.set(id, row);
  }
  for (const first of firsts.values()) await revertEntry(draft, first, runId, provenance, report);
  return report;
}

async function revertEntry(
  draft: VersionDraft,
  first: KnowledgeVersionRow,
  runId: string,
  provenance: Provenance,
  report: RevertReport,
): Promise<void> {
  const { scope, key } = first;
  const current = (await draft.current(scope, key))!;
  if (current.sourceKind !== "audit_run" || current.sourceRef !== runId) {
    const by = `${current.sourceKind.replace("_", " ")} ${current.sourceRef}`;
    report.skipped.push({
      scope,
      key,
      reason:
        current.note === `revert of run ${runId}`
          ? "already reverted"
          : `changed after the run (v${current.version} by ${by}); roll it back by hand if needed`,
    });
    return;
  }
  const before =
    first.version > 1 ? await draft.store.version(scope, key, first.version - 1) : undefined;
  const restored = before ?? { content: current.content, data: current.data, deleted: true };
  const entry = await draft.write(scope, key, restored, provenance, `revert of run ${runId}`);
  report.reverted.push({
    scope,
    key,
    from: current.version,
    to: entry.version,
    deleted: entry.deleted,
  });
}
