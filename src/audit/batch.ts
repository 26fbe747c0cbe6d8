import { DETAIL_LEVELS } from "./context.js";

/**
 * Packs the selected items into batches that fit the reviewer's context window, keeping actions
 * of different agents that happened close together in the same batch, so the reviewer sees them
 * side by side and can say where they touch (a purchase during a meeting).
 */
export interface BatchBudget {
  /** Tokens the reviewer takes in (config.models[role].context_window). */
  contextWindow: number;
  /** Tokens of the instructions sent with every batch. */
  fixedTokens: number;
  /** Room left per item for its verdict in the reply. */
  replyPerItem: number;
  /** Room left for the rest of the reply (insights, slack). */
  replyReserve: number;
  maxItems: number;
}

export interface Batchable {
  agent: string;
  startedAt: number;
}

export interface PlannedItem<T> {
  item: T;
  batch: number;
  /** Index into DETAIL_LEVELS: how much of the bodies fits. */
  level: number;
}

export function availableTokens(budget: BatchBudget): number {
  return budget.contextWindow - budget.fixedTokens - budget.replyReserve;
}

/**
 * `cost(item, level)` is the item's prompt tokens at a detail level. Items are packed in time
 * order by cross-agent cluster; a cluster too big for one batch is split in time order.
 */
export function planBatches<T extends Batchable>(
  items: T[],
  budget: BatchBudget,
  cost: (item: T, level: number) => number,
  crossAgentWindowMs: number,
): { planned: PlannedItem<T>[]; batches: number } {
  const available = availableTokens(budget);
  const sized = items.map((item) => {
    const level = fittingLevel(item, available - budget.replyPerItem, cost);
    return { item, level, tokens: cost(item, level) + budget.replyPerItem };
  });
  const planned: PlannedItem<T>[] = [];
  let batch = 0;
  let used = 0;
  let count = 0;
  const fits = (tokens: number, n: number) =>
    used + tokens <= available && count + n <= budget.maxItems;
  for (const cluster of crossAgentClusters(items, crossAgentWindowMs)) {
    const members = cluster.map((index) => sized[index]!);
    const total = members.reduce((sum, m) => sum + m.tokens, 0);
    if (count > 0 && !fits(total, members.length) && total <= available) {
      batch++;
      used = 0;
      count = 0;
    }
    for (const member of members) {
      if (count > 0 && !fits(member.tokens, 1)) {
        batch++;
        used = 0;
        count = 0;
      }
      planned.push({ item: member.item, batch, level: member.level });
      used += member.tokens;
      count++;
    }
  }
  return { planned, batches: planned.length === 0 ? 0 : batch + 1 };
}

function fittingLevel<T>(item: T, room: number, cost: (item: T, level: number) => number): number {
  for (let level = 0; level < DETAIL_LEVELS.length; level++) {
    if (cost(item, level) <= room) return level;
  }
  // Even the shortest rendering is too long: send it alone at that level and let the reviewer
  // see what fits rather than never reviewing it.
  return DETAIL_LEVELS.length - 1;
}

/**
 * Groups of item indices, each in time order, the groups ordered by their first item: two items
 * of different agents within the window are in the same group (transitively). Items that touch
 * nobody are groups of one.
 */
export function crossAgentClusters(items: Batchable[], windowMs: number): number[][] {
  const order = items.map((_, i) => i).sort((a, b) => items[a]!.startedAt - items[b]!.startedAt);
  const parent = items.map((_, i) => i);
  const root = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]!]!;
      i = parent[i]!;
    }
    return i;
  };
  for (let a = 0; a < order.length; a++) {
    const first = items[order[a]!]!;
    for (let b = a + 1; b < order.length; b++) {
      const second = items[order[b]!]!;
      if (second.startedAt - first.startedAt > windowMs) break;
      if (second.agent !== first.agent) parent[root(order[b]!)] = root(order[a]!);
    }
  }
  const groups = new Map<number, number[]>();
  for (const index of order) {
    const key = root(index);
    const group = groups.get(key) ?? [];
    group.push(index);
    groups.set(key, group);
  }
  return [...groups.values()];
}
