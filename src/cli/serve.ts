import type { Command } from "commander";
import { loadConfig } from "../config.js";
import { startDaemon } from "../daemon.js";
import type { CliContext } from "./context.js";
import { wholeNumber } from "./options.js";

interface ServeFlags {
  host?: string;
  port?: string;
  upstream?: string;
}

export function registerServe(program: Command, _context: CliContext): void {
  program
    .command("serve")
    .description("start the daemon: the logging gateway (Ollama and OpenAI APIs) and its services")
    .option(
      "--host <host>",
      "address to listen on (default 127.0.0.1; others need NIGHTSHIFT_TOKEN)",
    )
    .option("--port <port>", "port to listen on (default 11435; 0 picks a free one)")
    .option("--upstream <url>", "default model server (default http://127.0.0.1:11434)")
    .action(async (flags: ServeFlags, command: Command) => {
      const global = command.optsWithGlobals<{ config?: string }>();
      // Flags beat the config file and the environment, so they are applied to the raw config
      // before validation: a bad --upstream is reported like a bad key in the file.
      const loaded = loadConfig({
        configPath: global.config,
        overrides: (raw) => {
          const section = (name: string) => {
            const value = raw[name];
            if (value && typeof value === "object") return value as Record<string, unknown>;
            raw[name] = {};
            return raw[name] as Record<string, unknown>;
          };
          if (flags.host !== undefined) section("server").host = flags.host;
          if (flags.port !== undefined)
            section("server").port = wholeNumber("--port", { min: 0, max: 65535 })(flags.port);
          if (flags.upstream !== undefined) section("upstreams").default = flags.upstream;
        },
      });
      const daemon = await startDaemon(loaded, { handleSignals: true });
      await daemon.stopped;
    });
}
