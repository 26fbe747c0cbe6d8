import { lineageHeaders, numberOrUndefined, postJson, trimSlash } from "./http.js";
import type { ModelClient, ModelReply, ModelRequest } from "./types.js";

export interface HttpClientOptions {
  role: string;
  model: string;
  baseUrl: string;
  gpu?: number | undefined;
  options?: Record<string, unknown> | undefined;
  loggedByGateway: boolean;
  timeoutMs: number;
}

/** Ollama's /api/chat with `format` set to the JSON schema: Ollama constrains decoding to it. */
export function createOllamaClient(config: HttpClientOptions): ModelClient {
  const base = trimSlash(config.baseUrl);
  const target = {
    url: `${base}/api/chat`,
    role: config.role,
    model: config.model,
    timeoutMs: config.timeoutMs,
  };
  return {
    role: config.role,
    model: config.model,
    backend: "ollama",
    location: base,
    gpu: config.gpu ?? null,
    loggedByGateway: config.loggedByGateway,
    async chat(request: ModelRequest): Promise<ModelReply> {
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
    },
    close: async () => {},
  };
}
