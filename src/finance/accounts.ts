import type { Config } from "../config.js";
import { NightshiftError } from "../errors.js";
import type { FinanceAccount, FinanceWrites } from "../ledger/stores/finance.js";
import type { ParsedStatement } from "./import/statement.js";
import { maskNumber } from "./mask.js";

/** Where a statement that names no account goes when no --account is given. */
export const DEFAULT_ACCOUNT = "default";

/**
 * The account a statement belongs to: the one named with --account (refused if the file says
 * another number), else the one with the same masked number and kind, else a new one.
 */
export async function resolveAccount(
  file: string,
  parsed: ParsedStatement,
  store: FinanceWrites,
  config: Config["finance"],
  options: { account?: string | undefined },
  now: number,
): Promise<FinanceAccount> {
  const masked = parsed.accountNumber ? maskNumber(parsed.accountNumber) : null;
  const currency = parsed.currency ?? config.currency;
  if (options.account) {
    const existing = await store.accountByName(options.account);
    if (existing) {
      if (masked && existing.numberMasked && existing.numberMasked !== masked) {
        throw new NightshiftError(
          `${file}: the statement is for account ${masked}, but account "${existing.name}" is ${existing.numberMasked}; check --account`,
          { code: "account_mismatch" },
        );
      }
      return existing;
    }
    return store.ensureAccount({
      name: options.account,
      numberMasked: masked,
      kind: parsed.kind,
      currency,
      createdAt: now,
    });
  }
  if (!masked) {
    // Most CSV exports print no account number. They go to one default account (the import's
    // output says so) rather than being refused; --account files them where they belong.
    const fallback = await store.accountByName(DEFAULT_ACCOUNT);
    return (
      fallback ??
      store.ensureAccount({
        name: DEFAULT_ACCOUNT,
        numberMasked: null,
        kind: parsed.kind,
        currency,
        createdAt: now,
      })
    );
  }
  const existing = await store.accountByNumber(masked, parsed.kind);
  if (existing) return existing;
  const name = `${parsed.kind === "card" ? "card" : "account"} ${masked}`;
  return store.ensureAccount({
    name,
    numberMasked: masked,
    kind: parsed.kind,
    currency,
    createdAt: now,
  });
}
