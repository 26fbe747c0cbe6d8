import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { Command } from "commander";
import { NightshiftError } from "../errors.js";
import { enableInstructions, renderUnits } from "../scheduler/systemd.js";
import type { CliContext } from "./context.js";

export function registerService(program: Command, context: CliContext): void {
  const service = program.command("service").description("run nightshift as a systemd service");
  service
    .command("install")
    .description(
      "write systemd units for the daemon (and a low-weight slice for its background jobs)",
    )
    .option("--user", "a user unit in ~/.config/systemd/user (no root needed)")
    .option("--dry-run", "print the units instead of writing them")
    .action((flags: { user?: boolean; dryRun?: boolean }) => {
      const loaded = context.loaded();
      const user = flags.user ?? false;
      const units = renderUnits({
        user,
        home: loaded.home,
        configPath: loaded.configFound ? loaded.configPath : undefined,
      });
      if (flags.dryRun) {
        for (const unit of units) process.stdout.write(`# ${unit.path}\n${unit.text}\n`);
        process.stdout.write(
          `# then:\n${enableInstructions(user)
            .map((l) => `#   ${l}`)
            .join("\n")}\n`,
        );
        return;
      }
      for (const unit of units) writeUnit(unit.path, unit.text, user);
      process.stdout.write(
        `wrote ${units.map((u) => u.path).join(", ")}\nto enable:\n${enableInstructions(user)
          .map((l) => `  ${l}`)
          .join("\n")}\n`,
      );
    });
}

function writeUnit(path: string, text: string, user: boolean): void {
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text, { mode: 0o644 });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EACCES" || code === "EPERM") {
      throw new NightshiftError(
        `cannot write ${path}: permission denied; ${user ? "check the directory's owner" : "run it with sudo, or use --user"}`,
      );
    }
    throw error;
  }
}
