import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { renderUnits } from "../../src/scheduler/systemd.js";
import { CLI } from "../support/cli.js";
import { tempHome } from "../support/temp-ledger.js";

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

function hasSystemdAnalyze(): boolean {
  return spawnSync("sh", ["-c", "command -v systemd-analyze"]).status === 0;
}

describe("nightshift service install", () => {
  it("prints units that run the daemon with restart, data dir and a low-weight job slice", () => {
    const t = tempHome();
    cleanup = t.cleanup;
    const out = execFileSync(
      process.execPath,
      [...CLI, "service", "install", "--user", "--dry-run"],
      {
        env: { ...process.env, NIGHTSHIFT_HOME: t.home, XDG_CONFIG_HOME: join(t.home, "xdg") },
        encoding: "utf8",
      },
    );
    expect(out).toContain(`# ${join(t.home, "xdg/systemd/user/nightshift.service")}`);
    expect(out).toMatch(
      new RegExp(`ExecStart=${process.execPath}\\S* \\S+/dist/cli/main\\.js serve`),
    );
    expect(out).toContain(`Environment=NIGHTSHIFT_HOME=${t.home}`);
    expect(out).toContain("Restart=on-failure");
    expect(out).toContain("CPUWeight=20\nIOWeight=20");
    expect(out).toContain("systemctl --user enable --now nightshift.service");
    expect(existsSync(join(t.home, "xdg/systemd/user/nightshift.service"))).toBe(false);
  });

  it("writes the units where systemd looks for user units", () => {
    const t = tempHome();
    cleanup = t.cleanup;
    const out = execFileSync(process.execPath, [...CLI, "service", "install", "--user"], {
      env: { ...process.env, NIGHTSHIFT_HOME: t.home, XDG_CONFIG_HOME: join(t.home, "xdg") },
      encoding: "utf8",
    });
    const path = join(t.home, "xdg/systemd/user/nightshift.service");
    expect(readFileSync(path, "utf8")).toContain("WantedBy=default.target");
    expect(out).toContain(`wrote ${path}`);
  });

  it("passes systemd-analyze verify (system and user units), where systemd-analyze is installed", (context) => {
    if (!hasSystemdAnalyze()) {
      context.skip(); // systemd-analyze not installed: the text checks above still ran
      return;
    }
    const t = tempHome();
    cleanup = t.cleanup;
    const main = join(t.home, "main.js");
    writeFileSync(main, "");
    for (const user of [false, true]) {
      const dir = join(t.home, user ? "user" : "system");
      mkdirSync(dir);
      const units = renderUnits({
        user,
        home: join(t.home, "data dir"),
        mainPath: main,
        account: "root",
      });
      for (const unit of units) writeFileSync(join(dir, unit.name), unit.text);
      // --user needs a runtime dir, which a CI container without a login session lacks.
      const runtime = join(t.home, "runtime");
      mkdirSync(runtime, { recursive: true, mode: 0o700 });
      const env = { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? runtime };
      const result = spawnSync(
        "systemd-analyze",
        ["verify", ...(user ? ["--user"] : []), ...units.map((u) => join(dir, u.name))],
        { encoding: "utf8", env },
      );
      const problems = `${result.stdout}${result.stderr}`
        .split("\n")
        .filter((line) => line.includes(dir));
      expect(problems, problems.join("\n")).toEqual([]);
      expect(result.status, result.stderr).toBe(0);
    }
  });
});
