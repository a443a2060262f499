// Latency of the analytics API under concurrent clients: a 24-hour, 1-minute-bucket query of 100 series
// and the OEE endpoint, each at 10 and 100 concurrent closed-loop clients, over a database holding
// WEIR_BENCH_ROWS telemetry rows (default 100 million: 100 series at 1 Hz for ~11.6 days). Baseline: the
// same SQL sent straight through pg at the same concurrency, so the ratio shows what HTTP, auth,
// validation and JSON add. Results are recorded only for the full workload (>= 100M rows).
//
// Loading writes the raw rows one day per statement on WEIR_BENCH_LOAD_WORKERS connections (default 2),
// builds the unique index once at the end instead of row by row, materialises the 1-minute and 1-hour
// rollups and the counter increments per minute (as the sink's rollup maintainer, or TimescaleDB's refresh,
// would have) and runs ANALYZE, so
// the queries meet the database as it is in steady state.
//
//   npx tsx bench/analytics-latency.ts                          # full workload (loading takes a while)
//   WEIR_BENCH_ROWS=2000000 npx tsx bench/analytics-latency.ts  # smoke run, not recorded
//
// To load once and measure more than once, give a database (created beforehand, empty or loaded by an
// earlier run with the same WEIR_BENCH_ROWS) and pick the phase; nothing is dropped then:
//   WEIR_BENCH_DATABASE_URL=postgres://... WEIR_BENCH_PHASE=load npx tsx bench/analytics-latency.ts
//   WEIR_BENCH_DATABASE_URL=postgres://... WEIR_BENCH_PHASE=measure npx tsx bench/analytics-latency.ts
//
// Each (endpoint, concurrency) runs max(2 x clients, 50) requests, or fewer once WEIR_BENCH_BUDGET_S (default
// 120) has passed and every client has sent one; the counts are recorded with the percentiles.
import { createHash } from 'node:crypto';
import { Agent, get } from 'node:http';
import { loadavg } from 'node:os';
import { createLogger, Registry } from '@weir/observability';
import { createTestDatabase, startTimescale } from '@weir/testing';
import { detectTimescale, Migrator } from '@weir/timescale';
import { Pool } from 'pg';
import { analyticsSettingsSchema, bucketedStatement, startAnalyticsApi } from '../services/analytics-api/src/index';
import { environment, median, recordResult } from './lib/harness';

const ROWS = Number(process.env['WEIR_BENCH_ROWS'] ?? 100_000_000);
const PHASE = process.env['WEIR_BENCH_PHASE'] ?? 'all';
const DATABASE_URL = process.env['WEIR_BENCH_DATABASE_URL'];
const LOAD_WORKERS = Number(process.env['WEIR_BENCH_LOAD_WORKERS'] ?? 2);
const BUDGET_MS = Number(process.env['WEIR_BENCH_BUDGET_S'] ?? 120) * 1000;
// Subsets for a rerun: which endpoints, which client counts, how many warm-up requests.
const ENDPOINTS = (process.env['WEIR_BENCH_ENDPOINTS'] ?? 'series-24h,oee').split(',');
const CLIENTS = (process.env['WEIR_BENCH_CLIENTS'] ?? '10,100').split(',').map(Number);
const WARMUP = Number(process.env['WEIR_BENCH_WARMUP'] ?? 10);
const MACHINES = 25; // x 4 series (TotalCount, GoodCount, EnergyMeter, Temperature) = 100 series
const SERIES = MACHINES * 4;
const SECONDS = Math.floor(ROWS / SERIES);
const END = new Date('2024-06-01T00:00:00Z');
const START = new Date(END.getTime() - SECONDS * 1000);
const KEY = 'bench-key';
const started = Date.now();
const log = (l: string) => process.stdout.write(`${new Date().toISOString()} +${((Date.now() - started) / 1000).toFixed(0)}s load ${loadavg()[0]!.toFixed(1)} ${l}\n`);

// The sink's rollup maintainer computes each minute this way from the raw rows (Apache licence).
const GOOD = 't.status >> 30 = 0';
const ROLLUP_MINUTES = `INSERT INTO telemetry_1m (bucket, series_id, count, sum, avg, min, max, first, last, first_time, last_time, bad_count, uncertain_count)
  SELECT time_bucket(interval '1 minute', t.time), t.series_id, count(t.value) FILTER (WHERE ${GOOD}), sum(t.value) FILTER (WHERE ${GOOD}),
         avg(t.value) FILTER (WHERE ${GOOD}), min(t.value) FILTER (WHERE ${GOOD}), max(t.value) FILTER (WHERE ${GOOD}),
         (array_agg(t.value ORDER BY t.time, t.seq) FILTER (WHERE ${GOOD} AND t.value IS NOT NULL))[1],
         (array_agg(t.value ORDER BY t.time DESC, t.seq DESC) FILTER (WHERE ${GOOD} AND t.value IS NOT NULL))[1],
         min(t.time) FILTER (WHERE ${GOOD} AND t.value IS NOT NULL), max(t.time) FILTER (WHERE ${GOOD} AND t.value IS NOT NULL),
         count(*) FILTER (WHERE t.status >> 30 >= 2), count(*) FILTER (WHERE t.status >> 30 = 1)
    FROM telemetry t WHERE t.time >= $1 AND t.time < $2 GROUP BY 1, 2`;
const ROLLUP_HOURS = `INSERT INTO telemetry_1h (bucket, series_id, count, sum, avg, min, max, first, last, first_time, last_time, bad_count, uncertain_count)
  SELECT time_bucket(interval '1 hour', m.bucket), m.series_id, sum(m.count)::bigint, sum(m.sum), sum(m.sum) / nullif(sum(m.count), 0), min(m.min), max(m.max),
         (array_agg(m.first ORDER BY m.first_time) FILTER (WHERE m.first_time IS NOT NULL))[1],
         (array_agg(m.last ORDER BY m.last_time DESC) FILTER (WHERE m.last_time IS NOT NULL))[1],
         min(m.first_time), max(m.last_time), sum(m.bad_count)::bigint, sum(m.uncertain_count)::bigint
    FROM telemetry_1m m GROUP BY 1, 2`;

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
  const detection = await detectTimescale(pool);
  // One index build at the end is much cheaper than maintaining it row by row; the definition is the migration's.
  const index = (await pool.query<{ def: string }>(`SELECT pg_get_indexdef('telemetry_series_time_seq_key'::regclass) AS def`)).rows[0]!.def;
  await pool.query('DROP INDEX telemetry_series_time_seq_key');
  // Counters and a process value at 1 Hz, one day per statement so progress shows and memory stays flat.
  // Pieces end at UTC midnight, so no rollup minute is split between two of them.
  const days: [Date, Date][] = [];
  for (let day = START.getTime(); day < END.getTime(); day = Math.floor(day / 86_400_000) * 86_400_000 + 86_400_000) {
    days.push([new Date(day), new Date(Math.min(Math.floor(day / 86_400_000) * 86_400_000 + 86_400_000, END.getTime()))]);
  }
  let next = 0;
  await Promise.all(
    Array.from({ length: LOAD_WORKERS }, async () => {
      while (next < days.length) {
        const [from, to] = days[next++]!;
        await pool.query(`INSERT INTO telemetry (time, series_id, value, status, seq)
          SELECT g, (i - 1) * 5 + k, CASE k WHEN 4 THEN 20 + random() ELSE extract(epoch FROM g - $2::timestamptz) * (CASE k WHEN 1 THEN 1 WHEN 2 THEN 0.98 ELSE 0.01 END) END, 0,
                 extract(epoch FROM g)::bigint * 10 + k
            FROM generate_series($2::timestamptz, $3::timestamptz - interval '1 second', interval '1 second') g, generate_series(1, $1) i, generate_series(1, 4) k`, [MACHINES, from, to]);
        if (detection.license !== 'timescale') await pool.query(ROLLUP_MINUTES, [from, to]);
        log(`loaded ${from.toISOString().slice(0, 10)}`);
      }
    }),
  );
  log('building the unique index');
  await pool.query(index);
  if (detection.license === 'timescale') {
    await pool.query(`CALL refresh_continuous_aggregate('telemetry_1m', NULL, NULL)`);
    await pool.query(`CALL refresh_continuous_aggregate('telemetry_1h', NULL, NULL)`);
  } else await pool.query(ROLLUP_HOURS);
  // The counter increments per minute that the sink keeps on both licences (kpi.oee_slices reads them), a series at a time.
  const counters = (await pool.query<{ id: number }>(`SELECT id FROM series WHERE node_id ~ '\\.(TotalCount|GoodCount|EnergyMeter)$' ORDER BY id`)).rows.map((r) => r.id);
  log(`counter rollup of ${counters.length} series`);
  let nextCounter = 0;
  await Promise.all(
    Array.from({ length: LOAD_WORKERS }, async () => {
      while (nextCounter < counters.length) {
        const id = counters[nextCounter++]!;
        await pool.query('SELECT kpi.refresh_counter_increments($1, $2, ARRAY[$3::integer])', [START, END, id]);
      }
    }),
  );
  log('analyze');
  await pool.query('VACUUM ANALYZE');
  const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM telemetry');
  if (Number(rows[0]!.n) !== SECONDS * SERIES) throw new Error(`loaded ${rows[0]!.n} rows, expected ${SECONDS * SERIES}`);
  log(`loaded ${rows[0]!.n} rows`);
}

// Closed loop: `concurrency` clients, each sending its next request when the previous one is answered, until
// `requests` were sent or, once every client has sent one, the time budget is spent (so a slow endpoint on a
// loaded machine still finishes; the number measured is reported with each result).
async function closedLoop(concurrency: number, requests: number, one: () => Promise<void>, budgetMs = BUDGET_MS): Promise<number[]> {
  const latencies: number[] = [];
  const t = Date.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < requests && (next < concurrency || Date.now() - t < budgetMs)) {
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
  const server = DATABASE_URL === undefined ? await startTimescale() : undefined;
  const db = server ? await createTestDatabase(server.url, 'weir_bench_analytics') : { url: DATABASE_URL!, drop: async () => undefined };
  const pool = new Pool({ connectionString: db.url, max: 20 });
  const logger = createLogger({ service: 'bench-analytics', level: 'warn' });
  try {
    if (PHASE !== 'measure') {
      await new Migrator({ pool, logger }).up();
      log(`loading ${SECONDS * SERIES} rows (${SERIES} series x ${SECONDS} s) on ${LOAD_WORKERS} connections`);
      await load(pool);
      log(`load phase took ${((Date.now() - started) / 1000).toFixed(0)} s`);
    }
    if (PHASE !== 'load') await measure(pool, db.url);
  } finally {
    await pool.end();
    await db.drop();
    await server?.stop();
  }
}

async function measure(pool: Pool, url: string): Promise<void> {
  const logger = createLogger({ service: 'bench-analytics', level: 'warn' });
  const { rows: count } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM telemetry');
  if (Number(count[0]!.n) !== SECONDS * SERIES) throw new Error(`the database holds ${count[0]!.n} telemetry rows, not the ${SECONDS * SERIES} of this workload`);
  const settings = analyticsSettingsSchema.parse({
    // 100 clients share 20 connections: a request waits for one rather than failing after the default 10 s.
    database: { url, poolMax: 20, statementTimeoutMs: '15m', connectionTimeoutMs: '15m' },
    api: { port: 0, rateLimit: { perMinute: 0 }, auth: { apiKeys: { bench: { sha256: createHash('sha256').update(KEY).digest('hex'), role: 'admin', sites: '*' } } } },
  });
  const api = await startAnalyticsApi(settings, { logger, registry: new Registry() });
  const from = new Date(END.getTime() - 86_400_000);
  const to = END;
  const ids = Array.from({ length: MACHINES }, (_, i) => [1, 2, 3, 4].map((k) => i * 5 + k)).flat();
  const seriesUrl = `${api.url}/v1/timeseries?series=${ids.join(',')}&from=${from.toISOString()}&to=${to.toISOString()}&bucket=1m&agg=avg,max`;
  const oeeUrl = `${api.url}/v1/kpi/oee?from=${from.toISOString()}&to=${to.toISOString()}&by=machine`;
  // node:http rather than fetch: fetch gives up after 5 min without response headers, which a loaded run exceeds.
  const agent = new Agent({ keepAlive: true, maxSockets: 100 });
  const http = (url: string) => () =>
    new Promise<void>((resolve, reject) => {
      const req = get(url, { agent, headers: { 'X-API-Key': KEY } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`${url}: ${res.statusCode} ${Buffer.concat(chunks).toString()}`))));
      });
      req.on('error', reject);
    });
  // The baseline sends the statement the API sends (rollup-backed where the API would use the rollup).
  const detection = await detectTimescale(pool);
  const seriesQuery = { seriesIds: ids, from, to, bucket: '1 minutes', timeZone: 'UTC', quality: 'good', fill: 'none', windowed: false } as const;
  const seriesStatement = bucketedStatement(seriesQuery, detection.license === 'apache' ? 'rollup' : 'raw');
  if (!seriesStatement.rollup) log('the series query reads raw telemetry on this build');
  const rawStatement = bucketedStatement(seriesQuery, 'raw');
  // Sent as the API sends it: a read-only transaction with the session time zone and JIT off.
  const seriesSql = async () => {
    const c = await pool.connect();
    try {
      await c.query('BEGIN READ ONLY');
      await c.query(`SELECT set_config('TimeZone', 'UTC', true), set_config('jit', 'off', true)`);
      await c.query(seriesStatement.text, seriesStatement.values);
      await c.query('COMMIT');
    } finally {
      c.release();
    }
  };
  // The API's connections have JIT off (so does kpi.oee itself).
  const oeeSql = async () => {
    const c = await pool.connect();
    try {
      await c.query('SET jit = off');
      await c.query(`SELECT * FROM kpi.oee($1, $2, 'machine')`, [from, to]);
    } finally {
      c.release();
    }
  };
  // For information: the same series query answered from the raw hypertable, once, one client.
  const raw: number[] = [];
  if (ENDPOINTS.includes('series-24h')) {
    const one = await pool.connect();
    try {
      await one.query('SET jit = off');
      const t0 = process.hrtime.bigint();
      await one.query(rawStatement.text, rawStatement.values);
      raw.push(Number(process.hrtime.bigint() - t0) / 1e6);
      await one.query('RESET jit');
    } finally {
      one.release();
    }
    log(`series-24h from raw telemetry, 1 client: ${raw.map((x) => x.toFixed(0)).join(', ')} ms`);
  }
  const loads: number[] = [loadavg()[0]!];
  const sampler = setInterval(() => loads.push(loadavg()[0]!), 5000);
  const loadRange = () => `${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)}`;
  const env = () => ({ ...environment(), postgresql: detection.serverVersion, timescaledb: `${detection.extension.installedVersion} (${detection.license})`, loadAverage1m: loadRange() });
  // The settings that shape the run (the database URL is left out: it names a local server).
  const knobs = ['WEIR_BENCH_ROWS', 'WEIR_BENCH_LOAD_WORKERS', 'WEIR_BENCH_BUDGET_S', 'WEIR_BENCH_ENDPOINTS', 'WEIR_BENCH_CLIENTS', 'WEIR_BENCH_WARMUP'].filter((k) => process.env[k] !== undefined).map((k) => `${k}=${process.env[k]} `);
  const command = `${knobs.join('')}npx tsx bench/analytics-latency.ts${DATABASE_URL === undefined ? '' : ' (WEIR_BENCH_PHASE=load, then WEIR_BENCH_PHASE=measure, on one WEIR_BENCH_DATABASE_URL)'}`;
  const results: Record<string, { requests: number; baselineRequests: number; p50: number; p99: number; baselineP50: number; baselineP99: number }> = {};
  const cells = [
    ['series-24h', http(seriesUrl), seriesSql, 'analytics.series-24h-p99-ms', `${ROWS} rows, 100 series, 24 h x 1 min buckets (avg,max), answered from telemetry_1m`],
    ['oee', http(oeeUrl), oeeSql, 'analytics.oee-p99-ms', `${ROWS} rows, ${MACHINES} machines, 24 h by machine`],
  ] as const;
  try {
    for (const [name, ours, baseline, key, workload] of cells.filter(([n]) => ENDPOINTS.includes(n))) {
      for (const c of CLIENTS) {
        if (WARMUP > 0) await closedLoop(Math.min(c, WARMUP), WARMUP, ours, 0); // warm-up
        const a = await closedLoop(c, Math.max(2 * c, 50), ours);
        const b = await closedLoop(c, Math.max(2 * c, 50), baseline);
        results[`${name}@${c}`] = { requests: a.length, baselineRequests: b.length, p50: pct(a, 50), p99: pct(a, 99), baselineP50: pct(b, 50), baselineP99: pct(b, 99) };
        log(`${name} c=${c} n=${a.length}/${b.length}: API p50 ${pct(a, 50).toFixed(0)} ms p99 ${pct(a, 99).toFixed(0)} ms; SQL p50 ${pct(b, 50).toFixed(0)} ms p99 ${pct(b, 99).toFixed(0)} ms; median ${median(a).toFixed(0)} ms`);
      }
      // Recorded as soon as both concurrencies of an endpoint are measured.
      const at = (c: number) => results[`${name}@${c}`]!;
      if (ROWS >= 100_000_000 && results[`${name}@10`] && results[`${name}@100`]) {
        recordResult(key, {
          value: Math.round(at(100).p99), unit: 'ms', command,
          p50_at_10: Math.round(at(10).p50), p99_at_10: Math.round(at(10).p99), p50_at_100: Math.round(at(100).p50), p99_at_100: Math.round(at(100).p99),
          ...(name === 'series-24h' ? { raw_telemetry_single_client_ms: raw.map(Math.round) } : {}),
          workload, detail: { [`${name}@10`]: at(10), [`${name}@100`]: at(100) }, environment: env(),
        });
        log(`recorded ${key}`);
      }
    }
  } finally {
    clearInterval(sampler);
    agent.destroy();
    await api.close();
  }
  log(`1-minute load average during the measurement: ${loadRange()}`);
  if (ROWS < 100_000_000) log(`not recorded: ${ROWS} rows is below the 100M workload`);
}

void main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}${err instanceof Error && err.cause !== undefined ? ` (${String(err.cause)})` : ''}\n`);
  process.exit(1);
});
