import type { IncomingMessage, ServerResponse } from "node:http";
import type { ActionCursor, DashboardReads } from "../ledger/stores/index.js";
import { actionSummaryToJson, LISTED_BODY_CHARS } from "../views/actions.js";

const POLL_MS = 1000;
const KEEPALIVE_MS = 15_000;
const BATCH = 200;

/**
 * GET /v0/events: server-sent events, one `action` event (the table row's JSON) per action as it
 * lands in the ledger. One poller serves every client and runs only while someone listens; it
 * reads the ledger rather than hooking the writer, so actions logged by the CLI, the scheduler or
 * another process (another daemon, on a shared PostgreSQL ledger) appear too.
 */
export class ActionEvents {
  private readonly clients = new Set<ServerResponse>();
  private timer: NodeJS.Timeout | undefined;
  private keepalive: NodeJS.Timeout | undefined;
  private cursor: ActionCursor | null = null;
  /** Settles once the feed knows where the ledger ends: what it sends starts from there. */
  private ready: Promise<void> = Promise.resolve();
  /** A poll still reading: the next tick waits on it rather than reading the same rows twice. */
  private polling: Promise<void> | null = null;
  private closed = false;
  private complained = false;

  constructor(
    private readonly store: DashboardReads,
    private readonly log: (line: string) => void = () => {},
    private readonly pollMs = POLL_MS,
  ) {}

  serve(req: IncomingMessage, res: ServerResponse, extraHeaders: Record<string, string>): void {
    res.writeHead(200, {
      ...extraHeaders,
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      connection: "keep-alive",
      "x-accel-buffering": "no",
    });
    res.write("retry: 3000\n\n");
    this.clients.add(res);
    if (this.clients.size === 1) this.ready = this.start();
    // Said once every action logged from now on will be sent.
    void this.ready.then(() => res.write(": connected\n\n"));
    req.on("close", () => {
      this.clients.delete(res);
      if (this.clients.size === 0) this.stop();
    });
  }

  close(): void {
    this.closed = true;
    for (const res of this.clients) res.end();
    this.clients.clear();
    this.stop();
  }

  private start(): Promise<void> {
    this.cursor = null;
    this.timer = setInterval(() => void this.poll(), this.pollMs);
    this.keepalive = setInterval(() => this.broadcast(": keepalive\n\n"), KEEPALIVE_MS);
    this.timer.unref();
    this.keepalive.unref();
    return this.poll();
  }

  private stop(): void {
    clearInterval(this.timer);
    clearInterval(this.keepalive);
    this.timer = undefined;
    this.keepalive = undefined;
  }

  private poll(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.polling ??= this.read().finally(() => {
      this.polling = null;
    });
    return this.polling;
  }

  private async read(): Promise<void> {
    try {
      if (!this.cursor) {
        // The feed starts at the newest action: only what lands from now on is sent.
        this.cursor = (await this.store.newest()) ?? { startedAt: 0, id: "" };
        return;
      }
      const fresh = await this.store.newerThan(this.cursor, BATCH, LISTED_BODY_CHARS);
      for (const action of fresh) {
        this.broadcast(
          `event: action\nid: ${action.id}\ndata: ${JSON.stringify(actionSummaryToJson(action))}\n\n`,
        );
      }
      const last = fresh.at(-1);
      if (last) this.cursor = { startedAt: last.startedAt, id: last.id };
    } catch (error) {
      // A closed ledger means the daemon is shutting down; a lost connection is retried next tick.
      if (!this.closed && !this.complained) this.log(`nightshift events: ${String(error)}`);
      this.complained = true;
    }
  }

  private broadcast(text: string): void {
    for (const res of this.clients) res.write(text);
  }
}
