// Latency of the analytics API under concurrent clients: a 24-hour, 1-minute-bucket query of 100 series
// and the OEE endpoint, each at 10 and 100 concurrent closed-loop clients, over a database holding
// WEIR_BENCH_ROWS telemetry rows (default 100 million: 100 series at 1 Hz for ~11.6 days). Baseline: the
// same SQL sent straight through pg at the same concurrency, so the ratio shows what HTTP, auth,
// validation and JSON add. Results are recorded only for the full workload (>= 100M rows).
//
//   npx tsx bench/analytics-latency.ts                        # full workload (loading takes a while)
//   WEIR_BENCH_ROWS=2000000 npx tsx bench/analytics-latency.ts  # smoke run, not recorded
import { createHash } from 'node:crypto';
import { createLogger, Registry } from '@weir/observability';
import { createTestDatabase, startTimescale } from '@weir/testing';
import { detectTimescale, Migrator } from '@weir/timescale';
import { Pool } from 'pg';
import { analyticsSettingsSchema, startAnalyticsApi } from '../services/analytics-api/src/index';
import { environment, median, recordResult } from './lib/harness';

const ROWS = Number(process.env['WEIR_BENCH_ROWS'] ?? 100_000_000);
const MACHINES = 25; // x 4 series (TotalCount, GoodCount, EnergyMeter, Temperature) = 100 series
const SERIES = MACHINES * 4;
const SECONDS = Math.floor(ROWS / SERIES);
const END = new Date('2024-06-01T00:00:00Z');
const START = new Date(END.getTime() - SECONDS * 1000);
const KEY = 'bench-key';
const log = (l: string) => process.stdout.write(`${l}\n`);

async function load(pool: Pool): Promise<void> {
  await pool.query(`INSERT INTO assets (id, valid_from, parent_id, level, name, path, changed_at) VALUES
    ('ent', '2000-01-01Z', NULL, 'enterprise', 'E', 'ent', now()), ('s1', '2000-01-01Z', 'ent', 'site', 'S1', 'ent/s1', now()),
    ('l1', '2000-01-01Z', 's1', 'line', 'L1', 'ent/s1/l1', now())`);
  await pool.query(`INSERT INTO assets (id, valid_from, parent_id, level, name, path, cost_centre, changed_at)
    SELECT 'm' || i, '2000-01-01Z', 'l1', 'machine', 'M' || i, 'ent/s1/l1/m' || i, 'CC', now() FROM generate_series(1, $1) i`, [MACHINES]);
  await pool.query(`INSERT INTO series (id, source_id, node_id, asset_id, first_seen, last_seen)
    SELECT (i - 1) * 5 + k, 'plc', 'ns=3;s=M' || i || '.' || (ARRAY['TotalCount', 'GoodCount', 'EnergyMeter', 'Temperature', 'State'])[k], 'm' || i, $2, $3
      FROM generate_series(1, $1) i, generate_series(1, 5) k`, [MACHINES, START, END]);
  await pool.query(`INSERT INTO shifts (id, valid_from, valid_to, site_id, name, planned_break_minutes, changed_at)
    SELECT 'sh' || n, t, t + interval '8 hours', 's1', 'shift ' || (n % 3), 30, now() FROM generate_series($1::timestamptz, $2::timestamptz - interval '8 hours', interval '8 hours') WITH ORDINALITY g(t, n)`, [START, END]);
  await pool.query(`INSERT INTO production_orders (id, valid_from, valid_to, asset_id, material, planned_quantity, ideal_cycle_time_s, status, changed_at)
    SELECT 'po' || n, t, t + interval '1 day', 'l1', 'X', 1000, 2, 'completed', now() FROM generate_series($1::timestamptz, $2::timestamptz - interval '1 day', interval '1 day') WITH ORDINALITY g(t, n)`, [START, END]);
  // 50 min running, 10 min down per hour per machine.
  await pool.query(`INSERT INTO machine_state_intervals (series_id, start_time, end_time, state, reason_code)
    SELECT (i - 1) * 5 + 5, t + x.off, t + x.off + x.len, x.state, x.reason
      FROM generate_series(1, $1) i, generate_series($2::timestamptz, $3::timestamptz - interval '1 hour', interval '1 hour') t,
           (VALUES (interval '0 min', interval '50 min', 'running', NULL::int), (interval '50 min', interval '10 min', 'down', 303)) x(off, len, state, reason)`, [MACHINES, START, END]);
  // Counters and a process value at 1 Hz, one day at a time so progress shows and memory stays flat.
  for (let day = START.getTime(); day < END.getTime(); day += 86_400_000) {
    const to = Math.min(day + 86_400_000, END.getTime());
    await pool.query(`INSERT INTO telemetry (time, series_id, value, status, seq)
      SELECT g, (i - 1) * 5 + k, CASE k WHEN 4 THEN 20 + random() ELSE extract(epoch FROM g - $2::timestamptz) * (CASE k WHEN 1 THEN 1 WHEN 2 THEN 0.98 ELSE 0.01 END) END, 0,
             extract(epoch FROM g)::bigint * 10 + k
        FROM generate_series($2::timestamptz, $3::timestamptz - interval '1 second', interval '1 second') g, generate_series(1, $1) i, generate_series(1, 4) k`, [MACHINES, new Date(day), new Date(to)]);
    log(`loaded ${new Date(day).toISOString().slice(0, 10)}`);
  }
  await pool.query('ANALYZE');
}

async function closedLoop(concurrency: number, requests: number, one: () => Promise<void>): Promise<number[]> {
  const latencies: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < requests) {
        next++;
        const t0 = process.hrtime.bigint();
        await one();
        latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
    }),
  );
  return latencies.sort((a, b) => a - b);
}
const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

async function main(): Promise<void> {
  const server = await startTimescale();
  const db = await createTestDatabase(server.url, 'weir_bench_analytics');
  const pool = new Pool({ connectionString: db.url, max: 20 });
  const logger = createLogger({ service: 'bench-analytics', level: 'warn' });
  try {
    await new Migrator({ pool, logger }).up();
    log(`loading ${SECONDS * SERIES} rows (${SERIES} series x ${SECONDS} s)`);
    await load(pool);
    const settings = analyticsSettingsSchema.parse({
      database: { url: db.url, poolMax: 20, statementTimeoutMs: '5m' },
      api: { port: 0, rateLimit: { perMinute: 0 }, auth: { apiKeys: { bench: { sha256: createHash('sha256').update(KEY).digest('hex'), role: 'admin', sites: '*' } } } },
    });
    const api = await startAnalyticsApi(settings, { logger, registry: new Registry() });
    const from = new Date(END.getTime() - 86_400_000).toISOString();
    const to = END.toISOString();
    const ids = Array.from({ length: MACHINES }, (_, i) => [1, 2, 3, 4].map((k) => i * 5 + k)).flat();
    const seriesUrl = `${api.url}/v1/timeseries?series=${ids.join(',')}&from=${from}&to=${to}&bucket=1m&agg=avg,max`;
    const oeeUrl = `${api.url}/v1/kpi/oee?from=${from}&to=${to}&by=machine`;
    const http = (url: string) => async () => {
      const res = await fetch(url, { headers: { 'X-API-Key': KEY } });
      if (res.status !== 200) throw new Error(`${url}: ${res.status} ${await res.text()}`);
      await res.arrayBuffer();
    };
    const seriesSql = async () => void (await pool.query(`SELECT series_id, time_bucket('1 minute', time) b, avg(value), max(value) FROM telemetry WHERE series_id = ANY ($1::int[]) AND time >= $2 AND time < $3 AND value IS NOT NULL AND status >> 30 = 0 GROUP BY 1, 2 ORDER BY 1, 2`, [ids, from, to]));
    const oeeSql = async () => void (await pool.query(`SELECT * FROM kpi.oee($1, $2, 'machine')`, [from, to]));
    const detection = await detectTimescale(pool);
    const results: Record<string, { p50: number; p99: number; baselineP50: number; baselineP99: number }> = {};
    for (const [name, ours, baseline] of [['series-24h', http(seriesUrl), seriesSql], ['oee', http(oeeUrl), oeeSql]] as const) {
      for (const c of [10, 100]) {
        await closedLoop(Math.min(c, 10), 10, ours); // warm-up
        const requests = Math.max(2 * c, 50);
        const a = await closedLoop(c, requests, ours);
        const b = await closedLoop(c, requests, baseline);
        results[`${name}@${c}`] = { p50: pct(a, 50), p99: pct(a, 99), baselineP50: pct(b, 50), baselineP99: pct(b, 99) };
        log(`${name} c=${c} n=${requests}: API p50 ${pct(a, 50).toFixed(0)} ms p99 ${pct(a, 99).toFixed(0)} ms; SQL p50 ${pct(b, 50).toFixed(0)} ms p99 ${pct(b, 99).toFixed(0)} ms; median ${median(a).toFixed(0)} ms`);
      }
    }
    await api.close();
    if (ROWS >= 100_000_000) {
      const env = { ...environment(), postgresql: detection.serverVersion, timescaledb: `${detection.extension.installedVersion} (${detection.license})` };
      const command = 'npx tsx bench/analytics-latency.ts';
      recordResult('analytics.series-24h-p99-ms', { value: results['series-24h@100']!.p99, unit: 'ms', command, workload: `${ROWS} rows, 100 series, 24 h x 1 min buckets (avg,max)`, detail: results, environment: env });
      recordResult('analytics.oee-p99-ms', { value: results['oee@100']!.p99, unit: 'ms', command, workload: `${ROWS} rows, ${MACHINES} machines, 24 h by machine`, detail: results, environment: env });
    } else log(`not recorded: ${ROWS} rows is below the 100M workload`);
  } finally {
    await pool.end();
    await db.drop();
    await server.stop();
  }
}

void main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
