import type pg from "pg";
import {
  HOUR_MS,
  lastPerTs,
  latestActivity,
  type MonitorSample,
  type MonitorStore,
  monitorHostName,
  type RollupRow,
} from "../stores/monitor.js";
import { INSERT_CHUNK, type JoinedRow, SQL, samplesFromRows } from "./monitor-sql.js";
import { inTransaction } from "./transaction.js";

/**
 * One host's monitor history on a PostgreSQL ledger that several machines share. `client` is set
 * on the store a `transaction` hands out: every statement then runs on that one connection.
 */
export class PostgresMonitorStore implements MonitorStore {
  constructor(
    private readonly pool: pg.Pool,
    readonly host: string,
    private readonly client?: pg.PoolClient,
  ) {}

  forHost(host: string): MonitorStore {
    const name = monitorHostName(host);
    return name === this.host ? this : new PostgresMonitorStore(this.pool, name, this.client);
  }

  async hosts(): Promise<string[]> {
    return (await this.query<{ host: string }>("hosts", [])).map((r) => r.host);
  }

  async insert(sample: MonitorSample): Promise<void> {
    await this.insertMany([sample]);
  }

  async insertMany(samples: readonly MonitorSample[]): Promise<void> {
    if (samples.length === 0) return;
    // ON CONFLICT cannot touch one row twice in a statement: the last sample at a ts wins, as a
    // replace would leave it.
    const unique = lastPerTs(samples);
    await this.inOneTransaction(async (client) => {
      for (let i = 0; i < unique.length; i += INSERT_CHUNK) {
        await this.writeChunk(client, unique.slice(i, i + INSERT_CHUNK));
      }
    });
  }

  private async writeChunk(client: pg.ClientBase, chunk: readonly MonitorSample[]): Promise<void> {
    const column = <T>(pick: (s: MonitorSample) => T) => chunk.map(pick);
    const ts = column((s) => s.ts);
    await client.query(SQL.upsertSamples, [
      this.host,
      ts,
      column((s) => s.cpuPct),
      column((s) => s.ramPct),
      column((s) => s.ramUsedMb),
      column((s) => s.diskReadBps),
      column((s) => s.diskWriteBps),
      column((s) => s.userActive),
      column((s) => s.lastActiveAt),
      column((s) => s.source),
    ]);
    await client.query(SQL.deleteGpusAt, [this.host, ts]);
    const gpus = chunk.flatMap((s) => s.gpus.map((g) => ({ ts: s.ts, ...g })));
    if (gpus.length === 0) return;
    await client.query(SQL.insertGpus, [
      this.host,
      gpus.map((g) => g.ts),
      gpus.map((g) => g.index),
      gpus.map((g) => g.vendor),
      gpus.map((g) => g.utilPct),
      gpus.map((g) => g.memUsedMb),
      gpus.map((g) => g.memTotalMb),
      gpus.map((g) => g.powerW),
      gpus.map((g) => g.tempC),
    ]);
  }

  async between(from: number, to: number): Promise<MonitorSample[]> {
    return samplesFromRows(await this.query<JoinedRow>("between", [this.host, from, to]));
  }

  async latest(before = Number.MAX_SAFE_INTEGER): Promise<MonitorSample | undefined> {
    return samplesFromRows(await this.query<JoinedRow>("latest", [this.host, before]))[0];
  }

  async count(from = 0, to = Number.MAX_SAFE_INTEGER): Promise<number> {
    const [row] = await this.query<{ n: number }>("count", [this.host, from, to]);
    return Number(row?.n ?? 0);
  }

  async range(): Promise<{ oldest: number; newest: number } | null> {
    const [row] = await this.query<{ oldest: number | null; newest: number | null }>("range", [
      this.host,
    ]);
    return !row || row.oldest === null || row.newest === null
      ? null
      : { oldest: row.oldest, newest: row.newest };
  }

  async lastActivityBefore(before: number): Promise<number | null> {
    const [row] = await this.query<{ active: number | null; noted: number | null }>(
      "lastActivity",
      [this.host, before],
    );
    return latestActivity(before, row?.active, row?.noted);
  }

  async latestRollupHour(metric: string): Promise<number | null> {
    const [row] = await this.query<{ hour: number | null }>("latestRollupHour", [
      this.host,
      metric,
    ]);
    return row?.hour ?? null;
  }

  async rawHours(before: number, from = 0): Promise<number[]> {
    const rows = await this.query<{ hour: number }>("rawHours", [this.host, from, before]);
    return rows.map((r) => Number(r.hour));
  }

  async hoursWithoutRollup(metric: string, before: number, from = 0): Promise<number[]> {
    const rows = await this.query<{ hour: number }>("hoursWithoutRollup", [
      this.host,
      from,
      before,
      metric,
    ]);
    return rows.map((r) => Number(r.hour));
  }

  async upsertRollups(rows: readonly RollupRow[]): Promise<void> {
    if (rows.length === 0) return;
    const byKey = new Map(rows.map((r) => [`${r.hour}/${r.metric}/${r.gpu}`, r]));
    const unique = [...byKey.values()];
    const column = <T>(pick: (r: RollupRow) => T) => unique.map(pick);
    // One statement: atomic on its own, as the interface asks.
    await this.query("upsertRollups", [
      this.host,
      column((r) => r.hour),
      column((r) => r.metric),
      column((r) => r.gpu),
      column((r) => r.samples),
      column((r) => r.avg),
      column((r) => r.max),
      column((r) => r.p95),
    ]);
  }

  async rollups(from: number, to: number, metric?: string): Promise<RollupRow[]> {
    return metric === undefined
      ? this.query<RollupRow>("rollups", [this.host, from, to])
      : this.query<RollupRow>("metricRollups", [this.host, from, to, metric]);
  }

  async idleFractions(from: number, to: number): Promise<{ hour: number; idleFraction: number }[]> {
    return this.query("idleFractions", [this.host, from, to]);
  }

  async deleteRawHour(hour: number): Promise<number> {
    const result = await this.run("deleteRawHour", [this.host, hour, hour + HOUR_MS]);
    return result.rowCount ?? 0;
  }

  async transaction<T>(work: (tx: MonitorStore) => Promise<T>): Promise<T> {
    if (this.client) return work(this);
    return inTransaction(this.pool, (client) =>
      work(new PostgresMonitorStore(this.pool, this.host, client)),
    );
  }

  async quietHoursProfile<T>(): Promise<T | undefined> {
    const [row] = await this.query<{ profile: T }>("getProfile", [this.host]);
    return row?.profile;
  }

  async saveQuietHoursProfile(profile: unknown, at: number): Promise<void> {
    await this.run("setProfile", [this.host, JSON.stringify(profile ?? null), at]);
  }

  private async inOneTransaction(work: (client: pg.ClientBase) => Promise<void>): Promise<void> {
    if (this.client) return work(this.client);
    return inTransaction(this.pool, work);
  }

  private async query<R extends pg.QueryResultRow>(
    name: keyof typeof SQL,
    values: unknown[],
  ): Promise<R[]> {
    return (await this.run<R>(name, values)).rows;
  }

  /** Named, so each connection prepares a statement once and reuses its plan. */
  private run<R extends pg.QueryResultRow>(
    name: keyof typeof SQL,
    values: unknown[],
  ): Promise<pg.QueryResult<R>> {
    return (this.client ?? this.pool).query<R>({
      name: `ns_monitor_${name}`,
      text: SQL[name],
      values,
    });
  }
}
