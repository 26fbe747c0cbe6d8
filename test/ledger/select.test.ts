import { describe, expect, it } from "vitest";
import { loadConfig, parseConfig } from "../../src/config.js";
import { maskUrl } from "../../src/ledger/postgres/pool.js";
import { selectLedger } from "../../src/ledger/select.js";

describe("choosing the ledger engine", () => {
  it("keeps SQLite when neither ledger.url nor NIGHTSHIFT_LEDGER_URL is set", () => {
    const loaded = loadConfig({ env: { NIGHTSHIFT_HOME: "/tmp/ns-select" } });
    expect(selectLedger(loaded.config.ledger, loaded.dbPath)).toEqual({
      engine: "sqlite",
      location: "/tmp/ns-select/nightshift.db",
      path: "/tmp/ns-select/nightshift.db",
    });
  });

  it("selects PostgreSQL from NIGHTSHIFT_LEDGER_URL and never shows its password", () => {
    const env = {
      NIGHTSHIFT_HOME: "/tmp/ns-select",
      NIGHTSHIFT_LEDGER_URL: "postgres://ns:p%40ss@db.lan:5433/ledger",
    };
    const loaded = loadConfig({ env });
    const selection = selectLedger(loaded.config.ledger, loaded.dbPath);
    expect(selection).toMatchObject({
      engine: "postgres",
      location: "postgres://ns:***@db.lan:5433/ledger",
    });
    expect(JSON.stringify(selection)).toContain("p%40ss"); // the URL to connect with, kept
    expect(selection.location).not.toContain("p%40ss");
  });

  it("refuses a ledger.url that is not a PostgreSQL URL, naming the key", () => {
    expect(() => parseConfig({ ledger: { url: "mysql://u:secret@h/db" } }, "a.yaml")).toThrow(
      "invalid config in a.yaml:\n  ledger.url: must be a postgres:// URL (postgres://user:pass@host/db)",
    );
  });

  it("masks a password even in a URL that does not parse", () => {
    expect(maskUrl("postgres://u:se cret@[bad/db")).toBe("postgres://u:***@[bad/db");
  });
});
