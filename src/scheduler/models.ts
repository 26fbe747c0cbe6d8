import type { Config } from "../config.js";
import { NightshiftError } from "../errors.js";

export interface ResidentModel {
  upstream: string;
  model: string;
  sizeVramMb: number;
}

/**
 * Makes room on a GPU for a job's big model and puts the day models back afterwards, by talking
 * Ollama's API to the model server(s) pinned to that GPU (config.upstreams.servers[*].gpu). With
 * no server pinned to the GPU, the default upstream is taken to be the one serving it (the usual
 * single-GPU home server).
 */
export class ModelManager {
  constructor(
    private readonly config: Config,
    private readonly timeoutMs = 10_000,
  ) {}

  upstreamsFor(gpu: number): string[] {
    const servers = Object.values(this.config.upstreams.servers);
    const pinned = servers.filter((server) => server.gpu === gpu).map((server) => server.url);
    if (pinned.length > 0) return pinned.map(trimSlash);
    const fallback = this.config.upstreams.default;
    const named = this.config.upstreams.servers[fallback];
    return [trimSlash(named ? named.url : fallback)];
  }

  /** The models loaded on the GPU's upstream(s), as GET /api/ps reports them. */
  async residents(gpu: number, signal?: AbortSignal): Promise<ResidentModel[]> {
    const found: ResidentModel[] = [];
    for (const upstream of this.upstreamsFor(gpu)) {
      const reply = (await this.call(upstream, "GET", "/api/ps", undefined, signal)) as {
        models?: { name?: string; model?: string; size_vram?: number }[];
      };
      for (const entry of reply.models ?? []) {
        const model = entry.model ?? entry.name;
        if (model) found.push({ upstream, model, sizeVramMb: (entry.size_vram ?? 0) / 2 ** 20 });
      }
    }
    return found;
  }

  /**
   * Unloads every resident model not in `keep`, unless `neededMb` fits in `freeMb` (both known).
   * Returns what was unloaded, so the same models can be warmed again after the job.
   */
  async makeRoom(
    gpu: number,
    keep: string[],
    need: { neededMb: number | null; freeMb: number | null } = { neededMb: null, freeMb: null },
  ): Promise<ResidentModel[]> {
    if (need.neededMb !== null && need.freeMb !== null && need.freeMb >= need.neededMb) return [];
    const residents = (await this.residents(gpu)).filter((r) => !keep.includes(r.model));
    for (const resident of residents) await this.unloadOne(resident.upstream, resident.model);
    return residents;
  }

  /** Unloads `models` wherever they are resident on the GPU's upstream(s). */
  async unload(gpu: number, models: string[]): Promise<string[]> {
    const residents = (await this.residents(gpu)).filter((r) => models.includes(r.model));
    for (const resident of residents) await this.unloadOne(resident.upstream, resident.model);
    return residents.map((r) => r.model);
  }

  /** Loads models again (Ollama loads a model on a generate request with no prompt). */
  async warm(models: ResidentModel[]): Promise<void> {
    for (const { upstream, model } of models) {
      await this.call(upstream, "POST", "/api/generate", { model, stream: false });
    }
  }

  private async unloadOne(upstream: string, model: string): Promise<void> {
    await this.call(upstream, "POST", "/api/generate", { model, keep_alive: 0, stream: false });
  }

  private async call(
    upstream: string,
    method: "GET" | "POST",
    path: string,
    body?: unknown,
    signal?: AbortSignal,
  ): Promise<unknown> {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const url = `${upstream}${path}`;
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: body === undefined ? {} : { "content-type": "application/json" },
        body: body === undefined ? null : JSON.stringify(body),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (error) {
      throw new NightshiftError(`model server ${upstream} unreachable (${method} ${path})`, {
        status: 502,
        code: "upstream",
        cause: error,
      });
    }
    const text = await response.text();
    if (!response.ok) {
      throw new NightshiftError(
        `model server ${upstream} answered ${response.status} to ${method} ${path}: ${text.slice(0, 200)}`,
        { status: 502, code: "upstream" },
      );
    }
    return text ? JSON.parse(text) : {};
  }
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, "");
}
