/**
 * COPY writer (libs/timescale copyRows) vs a plain `COPY ... FROM STDIN` through psql,
 * into the same telemetry hypertable, side by side in one run.
 *
 * Workload: 500,000 telemetry rows (1,000 series x 500 samples at 1 s), the columns the
 * sink writes (time, series_id, origin, value, status, seq, server_time), into the
 * migrated `telemetry` hypertable with its unique (series_id, time, seq) index; the table
 * is truncated before every run, and every run's row count is checked.
 *
 * Ours: rows as JS arrays (times as ISO strings, as they arrive in messages) encoded and
 * streamed by copyRows over an already-open connection, the way the sink holds one.
 * Baseline: the same bytes pre-generated into a file and piped into the host's psql;
 * psql's time includes its process start and connection, as a user running it would see.
 *
 * Run: npx tsx bench/timescale-copy-vs-psql.ts   (env: WEIR_TEST_DATABASE_URL to use an
 * existing server; BENCH_PAIRS, BENCH_WARMUP to change the number of pairs)
 */
import { execFile, spawn } from 'node:child_process';
import { closeSync, createWriteStream, existsSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createLogger } from '@weir/observability';
import { createTestDatabase, startTimescale } from '@weir/testing';
import { copyRows, createPool, databaseSettingsSchema, detectTimescale, encodeCopyRow, Migrator } from '@weir/timescale';
import { compare, cpuPerMillion, environment, measure, median, packageVersion, rate, recordResult, type RunMeasure } from './lib/harness';

const KEY = 'timescale.copy-writer-vs-psql-copy';
const COMMAND = 'npx tsx bench/timescale-copy-vs-psql.ts';
const SERIES = 1_000;
const SAMPLES_PER_SERIES = 500;
const ROWS = SERIES * SAMPLES_PER_SERIES;
const COLUMNS = ['time', 'series_id', 'origin', 'value', 'status', 'seq', 'server_time'];
const WORKLOAD = `${ROWS.toLocaleString('en')} telemetry rows, ${SERIES.toLocaleString('en')} series x ${SAMPLES_PER_SERIES} samples at 1 s, 7 columns (time, series_id, origin, value, status, seq, server_time), into the telemetry hypertable with its unique (series_id, time, seq) index, truncated before each run`;
const PAIRS = Number(process.env['BENCH_PAIRS'] ?? 7);
const WARMUP = Number(process.env['BENCH_WARMUP'] ?? 2);

const run = promisify(execFile);

function makeRows(): unknown[][] {
  const rows: unknown[][] = [];
  const start = Date.UTC(2024, 0, 1);
  let seq = 0;
  // Interleaved by time, as samples of many series arrive together.
  for (let s = 0; s < SAMPLES_PER_SERIES; s++) {
    for (let series = 1; series <= SERIES; series++) {
      const t = start + s * 1000 + (series % 1000);
      rows.push([new Date(t).toISOString(), series, 'opcua', Math.sin(series + s / 10) * 100 + series, s % 97 === 0 ? 2150891520 : 0, seq++, new Date(t + 3).toISOString()]);
    }
  }
  return rows;
}

async function main(): Promise<void> {
  process.env['TESTCONTAINERS_HOST_OVERRIDE'] ??= '127.0.0.1';
  process.env['TESTCONTAINERS_RYUK_DISABLED'] ??= 'true';
  const server = await startTimescale();
  const db = await createTestDatabase(server.url, 'weir_bench');
  const logger = createLogger({ service: 'bench', level: 'warn' });
  const pool = createPool(databaseSettingsSchema.parse({ url: db.url, poolMax: 2, statementTimeoutMs: 0 }), logger);
  const work = mkdtempSync(join(tmpdir(), 'weir-bench-copy-'));
  try {
    await new Migrator({ pool, logger }).up();
    const client = await pool.connect();
    const detection = await detectTimescale(client);

    const rows = makeRows();
    const file = join(work, 'telemetry.copy');
    await new Promise<void>((resolve, reject) => {
      const out = createWriteStream(file);
      out.on('error', reject);
      const CHUNK = 10_000;
      for (let i = 0; i < rows.length; i += CHUNK) out.write(rows.slice(i, i + CHUNK).map(encodeCopyRow).join(''));
      out.end(resolve);
    });

    const truncate = (): Promise<unknown> => client.query('TRUNCATE telemetry');
    const verify = async (side: string): Promise<void> => {
      const { rows: r } = await client.query<{ n: string }>('SELECT count(*) AS n FROM telemetry');
      if (Number(r[0]!.n) !== ROWS) throw new Error(`${side}: ${r[0]!.n} rows in telemetry after the run, expected ${ROWS}`);
    };

    const psqlCpuMs: number[] = [];
    const hasTime = existsSync('/usr/bin/time');
    const copySql = `COPY telemetry (${COLUMNS.join(', ')}) FROM STDIN`;
    const psqlOnce = (): Promise<number> =>
      new Promise((resolve, reject) => {
        const stdin = openSync(file, 'r');
        const args = ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', db.url, '-c', copySql];
        // /usr/bin/time reports psql's own CPU; its start-up cost is a millisecond or so.
        const child = hasTime ? spawn('/usr/bin/time', ['-f', 'cpu %U %S', 'psql', ...args], { stdio: [stdin, 'ignore', 'pipe'] }) : spawn('psql', args, { stdio: [stdin, 'ignore', 'pipe'] });
        let stderr = '';
        child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('error', reject);
        child.on('close', (code) => {
          closeSync(stdin);
          const cpu = /cpu ([\d.]+) ([\d.]+)/.exec(stderr);
          if (cpu) psqlCpuMs.push((Number(cpu[1]) + Number(cpu[2])) * 1000);
          if (code === 0) resolve(ROWS);
          else reject(new Error(`psql exited with ${code}: ${stderr.trim()}`));
        });
      });

    const ours = async (): Promise<RunMeasure> => {
      await truncate();
      const m = await measure(() => copyRows(client, { table: 'telemetry', columns: COLUMNS, rows }));
      if (m.items !== ROWS) throw new Error(`copyRows reported ${m.items} rows, expected ${ROWS}`);
      await verify('copy writer');
      return m;
    };
    const baseline = async (): Promise<RunMeasure> => {
      await truncate();
      const m = await measure(psqlOnce);
      await verify('psql');
      return m;
    };

    process.stdout.write(`workload: ${WORKLOAD}\n${WARMUP} warm-up pair(s), ${PAIRS} measured pairs; PostgreSQL ${detection.serverVersion}, timescaledb ${detection.extension.installedVersion} (${detection.license})\n`);
    const result = await compare({ pairs: PAIRS, warmup: WARMUP, ours, baseline });
    client.release();

    const oursRate = median(result.ours.map(rate));
    const psqlRate = median(result.baseline.map(rate));
    // The first WARMUP * 1 psql runs were warm-up; keep the measured ones.
    const psqlCpu = psqlCpuMs.slice(WARMUP).map((cpuMs) => (cpuMs / ROWS) * 1e6);
    const psqlVersion = (await run('psql', ['--version'])).stdout.trim();
    const env = {
      ...environment(),
      postgresql: detection.serverVersion,
      timescaledb: `${detection.extension.installedVersion} (${detection.license})`,
      psql: psqlVersion,
      pg: packageVersion('pg'),
      'pg-copy-streams': packageVersion('pg-copy-streams'),
      database: server.source,
    };
    recordResult(KEY, {
      value: Number(result.medianRatio.toFixed(3)),
      unit: 'ratio',
      goal: 0.8,
      command: COMMAND,
      workload: WORKLOAD,
      baseline: 'psql COPY ... FROM STDIN of a pre-generated file of the same rows (process start and connection included)',
      ours_rows_per_s: Math.round(oursRate),
      psql_rows_per_s: Math.round(psqlRate),
      min: Number(result.minRatio.toFixed(3)),
      max: Number(result.maxRatio.toFixed(3)),
      ratios: result.ratios.map((r) => Number(r.toFixed(3))),
      pairs: PAIRS,
      warmup_pairs: WARMUP,
      client_cpu_ms_per_million_rows: { ours: Math.round(cpuPerMillion(result.ours)), psql: psqlCpu.length ? Math.round(median(psqlCpu)) : null },
      environment: env,
    });
    process.stdout.write(`\n| key | value (median) | min–max | goal | copy writer rows/s | psql rows/s | client CPU ms / M rows (ours / psql) | workload |\n|---|---|---|---|---|---|---|---|\n`);
    process.stdout.write(
      `| ${KEY} | ${result.medianRatio.toFixed(3)} | ${result.minRatio.toFixed(3)}–${result.maxRatio.toFixed(3)} | ≥ 0.8 | ${Math.round(oursRate).toLocaleString('en')} | ${Math.round(psqlRate).toLocaleString('en')} | ${Math.round(cpuPerMillion(result.ours))} / ${psqlCpu.length ? Math.round(median(psqlCpu)) : 'n/a'} | ${ROWS.toLocaleString('en')} rows, ${SERIES.toLocaleString('en')} series, ${PAIRS} pairs after ${WARMUP} warm-up |\n`,
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
    await pool.end();
    await db.drop();
    await server.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
