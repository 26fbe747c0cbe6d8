import {
  type HttpClientOptions,
  httpClient,
  lineageHeaders,
  numberOrUndefined,
  postJson,
  trimSlash,
} from "./http.js";
import type { ModelClient } from "./types.js";

/** Ollama's /api/chat with `format` set to the JSON schema: Ollama constrains decoding to it. */
export function createOllamaClient(config: HttpClientOptions): ModelClient {
  const base = trimSlash(config.baseUrl);
  return httpClient(config, "ollama", base, `${base}/api/chat`, async (target, request) => {
    const options = { ...config.options, ...request.options };
    const body = {
      model: config.model,
      messages: request.messages,
      format: request.schema,
      stream: false,
      ...(Object.keys(options).length > 0 ? { options } : {}),
    };
    const reply = await postJson(target, body, lineageHeaders(request), request.signal);
    const message = reply.message as { content?: unknown } | undefined;
    return {
      content: typeof message?.content === "string" ? message.content : "",
      model: typeof reply.model === "string" ? reply.model : config.model,
      tokensIn: numberOrUndefined(reply.prompt_eval_count),
      tokensOut: numberOrUndefined(reply.eval_count),
      loadDuration: numberOrUndefined(reply.load_duration),
      promptEvalDuration: numberOrUndefined(reply.prompt_eval_duration),
      evalDuration: numberOrUndefined(reply.eval_duration),
      totalDuration: numberOrUndefined(reply.total_duration),
    };
  });
}
