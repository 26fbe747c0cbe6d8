import {
  type HttpClientOptions,
  httpClient,
  lineageHeaders,
  numberOrUndefined,
  postJson,
  trimSlash,
} from "./http.js";
import type { ModelClient } from "./types.js";

/**
 * OpenAI-compatible /v1/chat/completions (llama.cpp server, vLLM, LM Studio, Ollama's /v1) with a
 * strict json_schema response_format. The base URL may or may not end in /v1; both are accepted.
 */
export function createOpenAiClient(config: HttpClientOptions): ModelClient {
  const base = trimSlash(config.baseUrl);
  const root = base.endsWith("/v1") ? base : `${base}/v1`;
  return httpClient(config, "openai", base, `${root}/chat/completions`, async (target, request) => {
    const body = {
      ...config.options,
      ...request.options,
      model: config.model,
      messages: request.messages,
      stream: false,
      response_format: {
        type: "json_schema",
        json_schema: { name: request.schemaName, schema: request.schema, strict: true },
      },
    };
    const reply = await postJson(target, body, lineageHeaders(request), request.signal);
    const choices = reply.choices as { message?: { content?: unknown } }[] | undefined;
    const content = choices?.[0]?.message?.content;
    const usage = reply.usage as Record<string, unknown> | undefined;
    return {
      content: typeof content === "string" ? content : "",
      model: typeof reply.model === "string" ? reply.model : config.model,
      tokensIn: numberOrUndefined(usage?.prompt_tokens),
      tokensOut: numberOrUndefined(usage?.completion_tokens),
    };
  });
}
