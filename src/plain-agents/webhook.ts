import { createHmac, randomUUID } from "node:crypto";
import type { Clock } from "../clock.js";
import { describeError } from "../errors.js";
import type { Delivery, DeliveryStore, ReviewStores } from "../ledger/stores/review.js";
import type { PlainAgentConfig, WebhookConfig } from "./config-schema.js";
import { deliveryToJson } from "./delivery.js";

export const SIGNATURE_HEADER = "x-nightshift-signature";
export const DELIVERY_HEADER = "x-nightshift-delivery";
export const TIMESTAMP_HEADER = "x-nightshift-timestamp";

/** `sha256=<hex>`: HMAC-SHA256 of the raw body with the agent's secret (as GitHub signs hooks). */
export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

export interface WebhookSenderOptions {
  /** The opened ledger of either engine; on PostgreSQL, senders of several daemons share the work. */
  ledger: { review: ReviewStores };
  agents: Record<string, PlainAgentConfig>;
  clock: Clock;
  /** How often due deliveries are looked for, in ms (default 2000). */
  pollMs?: number;
  log?: (line: string) => void;
}

/** What one pass did, for tests and the log. */
export interface SendCounts {
  delivered: number;
  retrying: number;
  failed: number;
}

/**
 * Posts each pending correction of an agent with a webhook, signed, until the webhook answers
 * 2xx; then marks it acknowledged and never sends it again. A failure waits backoff_ms, then
 * twice as long each time (up to max_backoff_ms), and after max_attempts the delivery is marked
 * failed (the agent can still pull it). Every try is recorded in delivery_attempts. Sends run off
 * the request path, one agent's deliveries in order.
 */
export class WebhookSender {
  private readonly store: DeliveryStore;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<SendCounts> | undefined;
  private stopped = false;

  constructor(private readonly options: WebhookSenderOptions) {
    this.store = options.ledger.review.deliveries;
  }

  start(): void {
    const poll = () => {
      if (this.stopped) return;
      void this.runOnce().finally(() => {
        if (!this.stopped) this.timer = setTimeout(poll, this.options.pollMs ?? 2000);
      });
    };
    poll();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One pass over every agent's due deliveries; a pass already under way is joined. */
  runOnce(): Promise<SendCounts> {
    this.running ??= this.pass().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async pass(): Promise<SendCounts> {
    const counts: SendCounts = { delivered: 0, retrying: 0, failed: 0 };
    for (const [agent, config] of Object.entries(this.options.agents)) {
      if (!config.webhook) continue;
      for (const delivery of await this.store.due(agent, this.options.clock.now(), 50)) {
        if (this.stopped) return counts;
        counts[await this.send(delivery, config.webhook)]++;
      }
    }
    return counts;
  }

  private async send(delivery: Delivery, hook: WebhookConfig): Promise<keyof SendCounts> {
    const now = this.options.clock.now();
    // The lease outlasts the request, so a second sender never posts the same correction.
    if (!(await this.store.claim(delivery.correctionId, now, now + hook.timeout_ms + 60_000))) {
      return "retrying";
    }
    const deliveryId = randomUUID();
    const body = JSON.stringify({
      type: "correction",
      delivery_id: deliveryId,
      sent_at: new Date(now).toISOString(),
      correction: deliveryToJson({ ...delivery, attempts: delivery.attempts + 1 }),
    });
    const t0 = performance.now();
    const { status, error } = await post(hook, body, deliveryId, now);
    await this.store.recordAttempt({
      correctionId: delivery.correctionId,
      deliveryId,
      url: hook.url,
      attemptedAt: now,
      httpStatus: status,
      error,
      durationMs: Math.round((performance.now() - t0) * 1000) / 1000,
    });
    if (error === null) {
      await this.store.acknowledge(
        delivery.correctionId,
        "webhook",
        this.options.clock.now(),
        null,
      );
      return "delivered";
    }
    return this.scheduleRetry(delivery, hook, error);
  }

  private async scheduleRetry(delivery: Delivery, hook: WebhookConfig, error: string) {
    const attempts = delivery.attempts + 1;
    if (attempts >= hook.max_attempts) {
      await this.store.giveUp(
        delivery.correctionId,
        `${error} (gave up after ${attempts} attempts)`,
      );
      this.options.log?.(
        `webhook for ${delivery.agent}: correction ${delivery.correctionId} failed ${attempts} times, last: ${error}`,
      );
      return "failed" as const;
    }
    const wait = Math.min(hook.max_backoff_ms, hook.backoff_ms * 2 ** (attempts - 1));
    await this.store.retryAt(delivery.correctionId, this.options.clock.now() + wait, error);
    return "retrying" as const;
  }
}

async function post(
  hook: WebhookConfig,
  body: string,
  deliveryId: string,
  now: number,
): Promise<{ status: number | null; error: string | null }> {
  try {
    const response = await fetch(hook.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "user-agent": "nightshift-webhook",
        [SIGNATURE_HEADER]: signBody(hook.secret, body),
        [DELIVERY_HEADER]: deliveryId,
        [TIMESTAMP_HEADER]: String(Math.floor(now / 1000)),
        "x-nightshift-event": "correction",
      },
      body,
      redirect: "manual",
      signal: AbortSignal.timeout(hook.timeout_ms),
    });
    await response.body?.cancel();
    if (response.status >= 200 && response.status < 300)
      return { status: response.status, error: null };
    return { status: response.status, error: `${hook.url} answered HTTP ${response.status}` };
  } catch (error) {
    return { status: null, error: `${hook.url}: ${describeError(error)}` };
  }
}
