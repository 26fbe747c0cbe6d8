import { z } from "zod";

/**
 * `plain_agents:` in nightshift.yaml: agents that run outside nightshift and receive their
 * corrections on a webhook. Agents not named here can still pull them from /v0/corrections.
 */
export const plainAgentSchema = z.strictObject({
  webhook: z
    .strictObject({
      url: z.url({ protocol: /^https?$/, error: "an http(s) URL" }),
      /** HMAC-SHA256 key; the signature of each body is in X-Nightshift-Signature. */
      secret: z.string().min(16, "a webhook secret needs at least 16 characters"),
      /** Tries before a delivery is marked failed (it can still be pulled and acknowledged). */
      max_attempts: z.number().int().min(1).max(100).default(12),
      /** The first retry waits this long; each later one twice as long, up to max_backoff_ms. */
      backoff_ms: z.number().int().min(1).default(1000),
      max_backoff_ms: z.number().int().min(1).default(3_600_000),
      timeout_ms: z.number().int().min(1).default(10_000),
    })
    .optional(),
});

export const plainAgentsSchema = z.record(z.string(), plainAgentSchema).default({});

export type PlainAgentConfig = z.infer<typeof plainAgentSchema>;
export type WebhookConfig = NonNullable<PlainAgentConfig["webhook"]>;
