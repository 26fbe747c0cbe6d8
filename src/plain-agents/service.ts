import type { Clock } from "../clock.js";
import type { Config } from "../config.js";
import type { ReviewStores } from "../ledger/stores/review.js";
import type { Telemetry } from "../telemetry/telemetry.js";
import { WebhookSender } from "./webhook.js";

/**
 * The daemon's background part for plain agents and telemetry: the webhook sender (when any
 * agent has a webhook) and, on stop, the last span export. Returned as a daemon Service.
 */
export function startPlainAgents(options: {
  config: Config;
  /** The opened ledger of either engine. */
  ledger: { review: ReviewStores };
  clock: Clock;
  log: (line: string) => void;
  telemetry: Telemetry;
}): { name: string; stop(): Promise<void> } {
  const { config, ledger, clock, log, telemetry } = options;
  const hooked = Object.values(config.plain_agents).some((a) => a.webhook);
  const sender = hooked
    ? new WebhookSender({
        ledger,
        agents: config.plain_agents,
        clock,
        log: (line) => log(`nightshift webhooks: ${line}`),
      })
    : undefined;
  sender?.start();
  if (telemetry.spans)
    log(`  otlp traces: ${telemetry.spans.target.url} (${telemetry.spans.target.protocol})`);
  return {
    name: "plain agents and telemetry",
    async stop() {
      await sender?.stop();
      await telemetry.shutdown();
    },
  };
}
