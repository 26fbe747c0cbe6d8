/**
 * What every model backend does for the runtime: one chat turn that must answer with JSON fitting
 * a schema. Backends differ in transport (Ollama HTTP, OpenAI-compatible HTTP, embedded
 * llama.cpp); the runtime above them is one code path.
 */

export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

/** A JSON schema object, as z.toJSONSchema produces it. */
export type JsonSchema = Record<string, unknown>;

export interface ModelRequest {
  messages: ChatMessage[];
  schema: JsonSchema;
  /** A short identifier for the schema (OpenAI's response_format requires one). */
  schemaName: string;
  /** Backend options (temperature, seed, num_ctx, ...); merged over the role's options. */
  options?: Record<string, unknown> | undefined;
  /** Who is asking, and under which action: the gateway logs the call as that action's child. */
  agent: string;
  parentId: string;
  traceId: string;
  signal?: AbortSignal | undefined;
}

export interface ModelReply {
  /** The assistant's text, expected to be JSON. */
  content: string;
  model: string;
  tokensIn?: number | undefined;
  tokensOut?: number | undefined;
  /** Nanoseconds, as Ollama reports them. */
  loadDuration?: number | undefined;
  promptEvalDuration?: number | undefined;
  evalDuration?: number | undefined;
  totalDuration?: number | undefined;
}

export type BackendKind = "ollama" | "openai" | "llamacpp";

/** A model bound to a role: which model, where it runs, and how to ask it. */
export interface ModelClient {
  readonly role: string;
  readonly model: string;
  readonly backend: BackendKind;
  /** Base URL (HTTP backends) or GGUF path (llamacpp): where the call went, for the ledger. */
  readonly location: string;
  readonly gpu: number | null;
  /**
   * True when the nightshift gateway logs each call itself (the client talks to the gateway). When
   * false, the runtime writes the model call as an action, so every LLM call is in the ledger.
   */
  readonly loggedByGateway: boolean;
  chat(request: ModelRequest): Promise<ModelReply>;
  close(): Promise<void>;
}
