import { existsSync } from "node:fs";
import { resolve } from "node:path";
import type { ChatHistoryItem, Llama, LlamaContext, LlamaModel } from "node-llama-cpp";
import { NightshiftError } from "../../errors.js";
import type { ChatMessage, ModelClient, ModelReply, ModelRequest } from "./types.js";

export interface LlamaCppOptions {
  role: string;
  /** The name recorded in the ledger; the GGUF file name when the config gives none. */
  model: string;
  path: string;
  gpu?: number | undefined;
  threads?: number | undefined;
  gpuLayers?: number | "auto" | "max" | undefined;
  contextSize?: number | undefined;
  options?: Record<string, unknown> | undefined;
}

interface LoadedModel {
  model: LlamaModel;
  context: LlamaContext;
  /** A context has one sequence here, so calls on one model run one after another. */
  queue: Promise<unknown>;
}

/**
 * Loads GGUF files once and shares them between roles that name the same file. The engine is
 * CPU-only unless a role names a GPU, never builds llama.cpp from source (a missing prebuilt
 * binary fails fast), and runs on one thread unless told otherwise: on small machines more
 * threads than cores made generation 100–1000× slower.
 */
export class LlamaCppHost {
  private readonly engines = new Map<string, Promise<Llama>>();
  private readonly models = new Map<string, Promise<LoadedModel>>();

  client(options: LlamaCppOptions): ModelClient {
    const path = resolve(options.path);
    return {
      role: options.role,
      model: options.model,
      backend: "llamacpp",
      location: path,
      gpu: options.gpu ?? null,
      loggedByGateway: false,
      chat: (request) => this.chat({ ...options, path }, request),
      close: async () => {},
    };
  }

  async close(): Promise<void> {
    const engines = [...this.engines.values()];
    this.engines.clear();
    this.models.clear();
    for (const engine of engines) {
      const llama = await engine.catch(() => undefined);
      // Disposing the engine disposes its models and contexts too.
      await llama?.dispose();
    }
  }

  private async chat(options: LlamaCppOptions, request: ModelRequest): Promise<ModelReply> {
    const loaded = await this.load(options);
    const run = loaded.queue.then(() => this.generate(loaded, options, request));
    loaded.queue = run.catch(() => undefined);
    return run;
  }

  private async generate(
    loaded: LoadedModel,
    options: LlamaCppOptions,
    request: ModelRequest,
  ): Promise<ModelReply> {
    const { LlamaChatSession } = await import("node-llama-cpp");
    const started = process.hrtime.bigint();
    const session = new LlamaChatSession({
      contextSequence: loaded.context.getSequence(),
      autoDisposeSequence: true,
    });
    try {
      // The schema is data from zod, not a literal type node-llama-cpp can infer from.
      const grammar = await loaded.model.llama.createGrammarForJsonSchema(
        request.schema as unknown as Parameters<Llama["createGrammarForJsonSchema"]>[0],
      );
      const { history, prompt } = splitMessages(request.messages);
      if (history.length > 0) session.setChatHistory(history);
      const settings = { ...options.options, ...request.options };
      const content = await session.prompt(prompt, {
        grammar,
        signal: request.signal,
        temperature: numberSetting(settings.temperature) ?? 0,
        maxTokens: numberSetting(settings.max_tokens ?? settings.num_predict) ?? 512,
        seed: numberSetting(settings.seed),
      });
      const text = request.messages.map((m) => m.content).join("\n");
      return {
        content,
        model: options.model,
        tokensIn: loaded.model.tokenize(text).length,
        tokensOut: loaded.model.tokenize(content).length,
        totalDuration: Number(process.hrtime.bigint() - started),
      };
    } catch (error) {
      if (request.signal?.aborted) throw error;
      // Generation failures (context overflow, a schema the grammar cannot express) are the
      // model's, not bugs here: a failed attempt the stage can recover from with another approach.
      throw new NightshiftError(
        `llama.cpp failed on role "${options.role}" (${options.path}): ${error instanceof Error ? error.message : String(error)}`,
        { status: 502, code: "model_failed", cause: error },
      );
    } finally {
      session.dispose();
    }
  }

  private load(options: LlamaCppOptions): Promise<LoadedModel> {
    const key = JSON.stringify([
      options.path,
      options.gpu ?? null,
      options.threads ?? 1,
      options.gpuLayers ?? null,
      options.contextSize ?? null,
    ]);
    let loaded = this.models.get(key);
    if (!loaded) {
      loaded = this.loadModel(options);
      // A failed load is not cached: the next call tries again (the file may have appeared).
      loaded.catch(() => this.models.delete(key));
      this.models.set(key, loaded);
    }
    return loaded;
  }

  private async loadModel(options: LlamaCppOptions): Promise<LoadedModel> {
    if (!existsSync(options.path)) {
      throw new NightshiftError(
        `GGUF file not found for role "${options.role}": ${options.path} (set models.${options.role}.path in nightshift.yaml)`,
        { status: 500, code: "model_missing" },
      );
    }
    const llama = await this.engine(options);
    try {
      const model = await llama.loadModel({
        modelPath: options.path,
        ...(options.gpu === undefined ? {} : { gpuLayers: options.gpuLayers ?? "auto" }),
      });
      const context = await model.createContext({
        contextSize: Math.max(1024, options.contextSize ?? 1024),
        threads: options.threads ?? 1,
      });
      return { model, context, queue: Promise.resolve() };
    } catch (error) {
      throw new NightshiftError(
        `cannot load GGUF model ${options.path} for role "${options.role}": ${error instanceof Error ? error.message : String(error)}`,
        { status: 500, code: "model_load_failed", cause: error },
      );
    }
  }

  private engine(options: LlamaCppOptions): Promise<Llama> {
    const gpu = options.gpu !== undefined;
    const threads = options.threads ?? 1;
    const key = `${gpu}:${threads}`;
    let engine = this.engines.get(key);
    if (!engine) {
      engine = import("node-llama-cpp")
        .then(({ getLlama, LlamaLogLevel }) =>
          getLlama({
            gpu: gpu ? "auto" : false,
            build: "never",
            maxThreads: threads,
            logLevel: LlamaLogLevel.error,
          }),
        )
        .catch((error: unknown) => {
          this.engines.delete(key);
          throw new NightshiftError(
            `cannot start the embedded llama.cpp engine for role "${options.role}": ${error instanceof Error ? error.message : String(error)}`,
            { status: 500, code: "engine_failed", cause: error },
          );
        });
      this.engines.set(key, engine);
    }
    return engine;
  }
}

/** System messages and earlier turns become the session's history; the last user turn is asked. */
function splitMessages(messages: ChatMessage[]): { history: ChatHistoryItem[]; prompt: string } {
  const last = messages.at(-1);
  const prompt = last && last.role === "user" ? last.content : "";
  const earlier = last && last.role === "user" ? messages.slice(0, -1) : messages;
  const history: ChatHistoryItem[] = earlier.map((m) =>
    m.role === "system"
      ? { type: "system", text: m.content }
      : m.role === "user"
        ? { type: "user", text: m.content }
        : { type: "model", response: [m.content] },
  );
  return { history, prompt };
}

function numberSetting(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}
