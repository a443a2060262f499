/**
 * The timescale-sink's telemetry write path vs raw COPY and vs multi-row INSERT, into the same
 * hypertable, side by side in one run.
 *
 * Workload: 500,000 enriched samples (ot.telemetry.enriched.v1, ~390 B as JSON, with asset, unit and cost centre) over 1,000 series of
 * one source, 500 samples per series 1 s apart, interleaved by time; written in batches of 5,000 (the
 * sink's default `batchSize`) into the migrated `telemetry` hypertable (unique (series_id, time, seq)),
 * truncated before every run; every run's row count is checked.
 *
 * Ours: the sink's database write path, `TelemetryService.write` per batch: series lookup (cache warm,
 * as in steady state), row building, a plain COPY into the hypertable (idempotent: a conflict on the unique
 * index rolls back and retries the batch through the staged upsert), rollup invalidation and sequence log
 * rows, one transaction per batch,
 * with `sink.partitionsConcurrently` (2) batches in flight as the consumer runs them. Kafka fetching,
 * decoding and the offset commit are not in it; a second figure adds decoding (contracts `decode` of the
 * message bytes) to show what the JSON + zod step costs on the same core.
 * Raw COPY: `copyRows` of exactly the rows the sink writes, one COPY stream, no transaction per batch.
 * Multi-row INSERT: `INSERT ... VALUES (...), ... ON CONFLICT DO NOTHING` (idempotent like the sink),
 * 5,000 rows per statement, one statement per batch, sequential.
 *
 * Run: npx tsx bench/sink-vs-baselines.ts   (env: WEIR_TEST_DATABASE_URL to use an existing server;
 * BENCH_PAIRS, BENCH_WARMUP to change the number of pairs)
 */
import { decode, encode, telemetryEnrichedV1, type TelemetryEnrichedV1 } from '@weir/contracts';
import { createLogger, Registry } from '@weir/observability';
import { createTestDatabase, startTimescale } from '@weir/testing';
import { copyRows, createPool, detectTimescale, Migrator } from '@weir/timescale';
import type { Pool } from 'pg';
import { sinkSettingsSchema } from '../services/timescale-sink/src/config';
import { SinkMetrics } from '../services/timescale-sink/src/common/sink-metrics';
import { StorageEdition } from '../services/timescale-sink/src/common/storage-edition';
import { CompletenessRepository } from '../services/timescale-sink/src/completeness/completeness.repository';
import { RollupRepository } from '../services/timescale-sink/src/rollups/rollup.repository';
import { StateRepository } from '../services/timescale-sink/src/state/state.repository';
import { SeriesRepository } from '../services/timescale-sink/src/telemetry/series.repository';
import { buildTelemetryBatch, sampleKeys, TELEMETRY_COLUMNS } from '../services/timescale-sink/src/telemetry/telemetry-rows';
import { TelemetryRepository } from '../services/timescale-sink/src/telemetry/telemetry.repository';
import { TelemetryService } from '../services/timescale-sink/src/telemetry/telemetry.service';
import { compare, cpuPerMillion, environment, measure, median, rate, recordResult, type Comparison, type RunMeasure } from './lib/harness';

const COMMAND = 'npx tsx bench/sink-vs-baselines.ts';
const SERIES = 1_000;
const PER_SERIES = 500;
const ROWS = SERIES * PER_SERIES;
const BATCH = 5_000;
const PAIRS = Number(process.env['BENCH_PAIRS'] ?? 5);
const WARMUP = Number(process.env['BENCH_WARMUP'] ?? 1);
const WORKLOAD = `${ROWS.toLocaleString('en')} enriched samples, ${SERIES.toLocaleString('en')} series x ${PER_SERIES} at 1 s, batches of ${BATCH.toLocaleString('en')}, into the telemetry hypertable with its unique (series_id, time, seq) index, truncated before each run`;

function makeSamples(): TelemetryEnrichedV1[] {
  const out: TelemetryEnrichedV1[] = [];
  const start = Date.UTC(2024, 0, 1);
  let seq = 0;
  for (let s = 0; s < PER_SERIES; s++) {
    for (let series = 0; series < SERIES; series++) {
      const t = start + s * 1000 + series;
      out.push({
        sourceId: 'bench-plant',
        nodeId: `ns=3;s=Line${series % 10}.Machine${series}.Value`,
        seq: seq++,
        origin: 'opcua',
        value: Math.round(Math.sin(series + s / 10) * 100_000) / 1000,
        dataType: 'Double',
        status: s % 97 === 0 ? 1073741824 : 0,
        sourceTime: new Date(t).toISOString(),
        serverTime: new Date(t + 3).toISOString(),
        context: { asset: { id: `m${series}`, path: `acme/plant/line${series % 10}/m${series}` }, productionOrder: null, workOrder: null, shift: null, costCentre: '4711', unit: 'Cel', limits: null },
      });
    }
  }
  return out;
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

async function inFlight<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

async function main(): Promise<void> {
  process.env['TESTCONTAINERS_HOST_OVERRIDE'] ??= '127.0.0.1';
  process.env['TESTCONTAINERS_RYUK_DISABLED'] ??= 'true';
  const server = await startTimescale();
  const db = await createTestDatabase(server.url, 'weir_bench_sink');
  const logger = createLogger({ service: 'bench', level: 'warn' });
  const settings = sinkSettingsSchema.parse({ kafka: { brokers: ['127.0.0.1:1'] }, database: { url: db.url, poolMax: 4, statementTimeoutMs: 0 } });
  const pool: Pool = createPool(settings.database, logger);
  try {
    await new Migrator({ pool, logger }).up();
    const detection = await detectTimescale(pool);
    const edition = new StorageEdition();
    edition.set(detection.license!);
    const metrics = new SinkMetrics(new Registry());
    const series = new SeriesRepository(pool, settings);
    const service = new TelemetryService(pool, settings, series, new TelemetryRepository(), new RollupRepository(pool, edition), new CompletenessRepository(pool), new StateRepository(settings), metrics);

    const samples = makeSamples();
    const batches = chunks(samples, BATCH);
    const encoded = batches.map((b) => b.map((s) => encode(telemetryEnrichedV1, s)));
    // Warm the series dictionary once: steady state, as a running sink has it.
    await series.resolve(samples);
    const rows = buildTelemetryBatch(samples, sampleKeys(samples), (await series.resolve(samples)).ids).numeric;
    const rowBatches = chunks(rows, BATCH);
    const concurrency = settings.sink.partitionsConcurrently;

    const reset = async (): Promise<void> => {
      await pool.query('TRUNCATE telemetry, weir_rollup_invalidations, weir_seq_log');
    };
    const verify = async (side: string): Promise<void> => {
      const { rows: r } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM telemetry');
      if (Number(r[0]!.n) !== ROWS) throw new Error(`${side}: ${r[0]!.n} rows in telemetry after the run, expected ${ROWS}`);
    };
    const run = (side: string, fn: () => Promise<number>) => async (): Promise<RunMeasure> => {
      await reset();
      const m = await measure(fn);
      await verify(side);
      return m;
    };

    const sink = run('sink', async () => {
      await inFlight(batches, concurrency, (b) => service.write(b));
      return ROWS;
    });
    const sinkWithDecode = run('sink + decode', async () => {
      await inFlight(encoded, concurrency, (b) => service.write(b.map((buf) => (decode(telemetryEnrichedV1, buf) as { value: TelemetryEnrichedV1 }).value)));
      return ROWS;
    });
    const rawCopy = run('raw COPY', async () => {
      const client = await pool.connect();
      try {
        return await copyRows(client, { table: 'telemetry', columns: TELEMETRY_COLUMNS, rows });
      } finally {
        client.release();
      }
    });
    const columnList = TELEMETRY_COLUMNS.join(', ');
    const multiRowInsert = run('multi-row INSERT', async () => {
      const client = await pool.connect();
      try {
        for (const batch of rowBatches) {
          const params: unknown[] = [];
          const tuples = batch.map((row) => `(${row.map((v) => `$${params.push(v)}`).join(', ')})`);
          await client.query(`INSERT INTO telemetry (${columnList}) VALUES ${tuples.join(', ')} ON CONFLICT (series_id, time, seq) DO NOTHING`, params);
        }
      } finally {
        client.release();
      }
      return ROWS;
    });

    process.stdout.write(`workload: ${WORKLOAD}\n${WARMUP} warm-up pair(s), ${PAIRS} measured pairs; PostgreSQL ${detection.serverVersion}, timescaledb ${detection.extension.installedVersion} (${detection.license})\n`);
    process.stdout.write('\n== sink write path vs raw COPY\n');
    const vsCopy = await compare({ pairs: PAIRS, warmup: WARMUP, ours: sink, baseline: rawCopy });
    process.stdout.write('\n== sink write path vs multi-row INSERT\n');
    const vsInsert = await compare({ pairs: PAIRS, warmup: WARMUP, ours: sink, baseline: multiRowInsert });
    process.stdout.write('\n== sink write path with decoding vs raw COPY (informational)\n');
    const decodeVsCopy = await compare({ pairs: Math.max(3, Math.floor(PAIRS / 2)), warmup: WARMUP, ours: sinkWithDecode, baseline: rawCopy });

    const env = { ...environment(), postgresql: detection.serverVersion, timescaledb: `${detection.extension.installedVersion} (${detection.license})`, database: server.source };
    const entry = (c: Comparison, goal: number, baseline: string, extra: Record<string, unknown> = {}): Parameters<typeof recordResult>[1] => ({
      value: Number(c.medianRatio.toFixed(3)),
      unit: 'ratio',
      goal,
      command: COMMAND,
      workload: WORKLOAD,
      ours: `TelemetryService.write per batch of ${BATCH} (series lookup, rows, COPY with upsert fallback, rollup + sequence logs, commit), ${concurrency} batches in flight; decoding, Kafka fetch and offset commit excluded`,
      baseline,
      ours_rows_per_s: Math.round(median(c.ours.map(rate))),
      baseline_rows_per_s: Math.round(median(c.baseline.map(rate))),
      min: Number(c.minRatio.toFixed(3)),
      max: Number(c.maxRatio.toFixed(3)),
      ratios: c.ratios.map((r) => Number(r.toFixed(3))),
      pairs: c.pairs,
      warmup_pairs: WARMUP,
      client_cpu_ms_per_million_rows: { ours: Math.round(cpuPerMillion(c.ours)), baseline: Math.round(cpuPerMillion(c.baseline)) },
      ...extra,
      environment: env,
    });
    recordResult(
      'sink.vs-raw-copy',
      entry(vsCopy, 0.8, 'copyRows of the same rows, one COPY stream into the same hypertable', {
        with_decoding: { value: Number(decodeVsCopy.medianRatio.toFixed(3)), min: Number(decodeVsCopy.minRatio.toFixed(3)), max: Number(decodeVsCopy.maxRatio.toFixed(3)), ours_rows_per_s: Math.round(median(decodeVsCopy.ours.map(rate))), client_cpu_ms_per_million_rows: Math.round(cpuPerMillion(decodeVsCopy.ours)) },
      }),
    );
    recordResult('sink.vs-multirow-insert', entry(vsInsert, 2, `INSERT ... VALUES x ${BATCH} ... ON CONFLICT DO NOTHING, one statement per batch, sequential`));

    const row = (key: string, c: Comparison, goal: string): string =>
      `| \`${key}\` | **${c.medianRatio.toFixed(2)}** | ${goal} | ${c.minRatio.toFixed(2)}–${c.maxRatio.toFixed(2)} over ${c.pairs} pairs | sink ${Math.round(median(c.ours.map(rate))).toLocaleString('en')} rows/s, baseline ${Math.round(median(c.baseline.map(rate))).toLocaleString('en')} rows/s | \`${COMMAND}\` | ${new Date().toISOString().slice(0, 10)} |\n`;
    process.stdout.write(`\n${row('sink.vs-raw-copy', vsCopy, '≥ 0.8')}${row('sink.vs-multirow-insert', vsInsert, '≥ 2')}`);
    process.stdout.write(`with decoding: ${decodeVsCopy.medianRatio.toFixed(3)} of raw COPY (${decodeVsCopy.minRatio.toFixed(3)}–${decodeVsCopy.maxRatio.toFixed(3)}), ${Math.round(median(decodeVsCopy.ours.map(rate)))} rows/s\n`);
  } finally {
    await pool.end();
    await db.drop();
    await server.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
