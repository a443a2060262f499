/**
 * The historian connector's CSV source into Kafka vs a bare streaming parse of the same file
 * without Kafka, side by side.
 *
 * Workload: one tall CSV export of BENCH_ROWS (default 300,000; a few minutes on a shared 2-core machine) rows
 * (`tag,time,value,quality`, 100 tags with ISA-95-like path names, ISO 8601 UTC times one second
 * apart per tag, numeric values, OPC DA quality 192), ~80 B a row, generated once into a temp
 * folder outside any timed window. The file is read from the page cache by both sides.
 *
 * Ours (the key's numerator): startHistorianConnector in this process with one CSV source whose
 * settings are all defaults (batchRows 5,000, no rate limit, delimiter auto, valueType number,
 * timeFormat iso) except the folder, a fresh state folder (spool with fsync batch, checkpoints)
 * and a fresh topic per run (3 partitions, acks=all). The file is hard-linked into a fresh drop
 * folder before the start; it is old, so the first scan reads it at once. Timed from the start
 * of the connector until the file is finished and the spool is flushed (Kafka acknowledged every
 * row); the connector is stopped outside the window.
 * Baseline (the key's denominator): the same file through fs.createReadStream (same 256 KiB
 * chunks), cut into lines at `\n`, each line split at `,` into its four fields, the time parsed
 * with Date.parse and value and quality with Number, a checksum kept: the cheapest honest parse
 * of the same data, with nothing written anywhere.
 *
 * Correctness in every run: ours — the topic's end offsets add up to exactly BENCH_ROWS (every
 * row arrived, none twice), the connector counted BENCH_ROWS samples and no bad row; baseline —
 * BENCH_ROWS rows parsed, every time valid, the value checksum equal to the generator's.
 *
 * Run: npx tsx bench/historian-csv-vs-bare-parse.ts   (env: WEIR_TEST_KAFKA_BROKERS to use an
 * existing broker; BENCH_PAIRS (5), BENCH_WARMUP (1), BENCH_ROWS to change the run)
 */
import { createReadStream, createWriteStream, linkSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { telemetryRawV1, topicName } from '@weir/contracts';
import { createKafkaClient, kafkaSettingsSchema } from '@weir/kafka';
import { createLogger, createMetricsRegistry, HealthRegistry } from '@weir/observability';
import { metricValue, startKafka, uniqueTopicPrefix } from '@weir/testing';
import type { Admin } from 'kafkajs';
import { historianSettingsSchema, startHistorianConnector } from '../services/historian-connector/src/index';
import { compare, cpuPerMillion, environment, measure, median, packageVersion, rate, recordResult, type RunMeasure } from './lib/harness';

const KEY = 'historian.csv-vs-bare-parse';
const COMMAND = 'npx tsx bench/historian-csv-vs-bare-parse.ts';
const ROWS = Number(process.env['BENCH_ROWS'] ?? 300_000);
const PAIRS = Number(process.env['BENCH_PAIRS'] ?? 5);
const WARMUP = Number(process.env['BENCH_WARMUP'] ?? 1);
const PARTITIONS = 3;
const TAGS = 100;
const CHUNK_BYTES = 256 * 1024;
const T0 = Date.UTC(2026, 0, 1);

/** Writes the export; returns the sum of its values (the baseline's checksum). */
async function writeExport(file: string): Promise<number> {
  let sum = 0;
  await new Promise<void>((done, fail) => {
    const out = createWriteStream(file);
    out.on('error', fail);
    out.write('tag,time,value,quality\n');
    let i = 0;
    const more = (): void => {
      let ok = true;
      while (i < ROWS && ok) {
        let chunk = '';
        for (let k = 0; k < 1000 && i < ROWS; k++, i++) {
          const value = (i % 10_000) / 10;
          sum += value;
          chunk += `Site01/Area01/Line01/Machine${String(i % TAGS).padStart(3, '0')}/Temperature,${new Date(T0 + Math.floor(i / TAGS) * 1000).toISOString()},${value},192\n`;
        }
        ok = out.write(chunk);
      }
      if (i < ROWS) out.once('drain', more);
      else out.end(done);
    };
    more();
  });
  return sum;
}

/** The baseline: stream the file, cut lines, split fields, parse time, value and quality. Returns rows and the value checksum. */
async function bareParse(file: string): Promise<{ rows: number; sum: number; badTimes: number }> {
  let rest = '';
  let header = true;
  let rows = 0;
  let sum = 0;
  let badTimes = 0;
  const line = (text: string): void => {
    if (header) {
      header = false;
      return;
    }
    const f = text.split(',');
    if (!Number.isFinite(Date.parse(f[1]!))) badTimes++;
    sum += Number(f[2]);
    if (Number(f[3]) < 0) badTimes++;
    rows++;
  };
  for await (const chunk of createReadStream(file, { encoding: 'utf8', highWaterMark: CHUNK_BYTES })) {
    const text = rest + (chunk as string);
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      line(text.slice(start, nl));
      start = nl + 1;
    }
    rest = text.slice(start);
  }
  if (rest.length > 0) line(rest);
  return { rows, sum, badTimes };
}

async function main(): Promise<void> {
  process.env['TESTCONTAINERS_HOST_OVERRIDE'] ??= '127.0.0.1';
  process.env['TESTCONTAINERS_RYUK_DISABLED'] ??= 'true';
  const log = (line: string): void => void process.stdout.write(`${line}\n`);
  // The machine is shared: the load around the run says how far wall-clock rates can be trusted.
  const loadAtStart = loadavg()[0]!;
  const work = mkdtempSync(join(tmpdir(), 'weir-bench-hist-csv-'));
  const file = join(work, 'export.csv');
  const checksum = await writeExport(file);
  const fileBytes = statSync(file).size;
  log(`export: ${ROWS.toLocaleString('en')} rows, ${Math.round(fileBytes / 1048576)} MiB`);

  const broker = await startKafka();
  const logger = createLogger({ service: 'bench', level: 'warn' });
  const kafka = createKafkaClient(kafkaSettingsSchema.parse({ brokers: broker.brokers, clientId: 'bench-historian-csv' }), logger);
  const admin: Admin = kafka.admin();
  await admin.connect();
  const failures: string[] = [];
  let run = 0;

  const ours = async (): Promise<RunMeasure> => {
    const prefix = uniqueTopicPrefix('bench-hcsv');
    const dir = join(work, `run-${++run}`);
    const drop = join(dir, 'drop');
    mkdirSync(drop, { recursive: true });
    // The same inode: no copy, and old enough that the first scan reads it at once.
    linkSync(file, join(drop, 'export.csv'));
    const settings = historianSettingsSchema.parse({
      logLevel: 'warn',
      opsPort: 0,
      kafka: { brokers: broker.brokers, topicPrefix: prefix, clientId: 'bench-historian-csv', partitions: PARTITIONS, replicationFactor: 1 },
      stateDir: join(dir, 'state'),
      sources: [{ id: 'bench-csv', type: 'csv', dir: drop }],
    });
    const metrics = createMetricsRegistry('historian-connector', { defaultMetrics: false });
    let stop: (() => Promise<void>) | undefined;
    try {
      const m = await measure(async () => {
        const connector = await startHistorianConnector({ settings, logger, metrics, health: new HealthRegistry() });
        stop = () => connector.stop();
        const deadline = Date.now() + 1_800_000;
        while ((await metricValue(metrics, 'weir_historian_files_total', { source: 'bench-csv' })) < 1) {
          if (Date.now() > deadline) throw new Error('BENCH.STUCK: not finished after 30 min');
          await new Promise((r) => setTimeout(r, 20));
        }
        await connector.spool.flush();
        return metricValue(metrics, 'weir_historian_samples_total', { source: 'bench-csv' });
      });
      const offsets = await admin.fetchTopicOffsets(topicName(telemetryRawV1, prefix));
      const inKafka = offsets.reduce((a, o) => a + Number(o.high), 0);
      const bad = await metricValue(metrics, 'weir_historian_bad_input_total', { source: 'bench-csv' });
      const ok = await metricValue(metrics, 'weir_historian_files_total', { source: 'bench-csv', outcome: 'ok' });
      log(`  ours: ${inKafka} rows in Kafka, ${m.items} samples counted, ${bad} bad rows, file ok ${ok}`);
      if (inKafka !== ROWS || m.items !== ROWS || bad !== 0 || ok !== 1) failures.push(`ours run ${run}: ${inKafka} rows in Kafka, ${m.items} counted of ${ROWS}, ${bad} bad, ok ${ok}`);
      return m;
    } finally {
      await stop?.();
      rmSync(dir, { recursive: true, force: true });
    }
  };

  const baseline = async (): Promise<RunMeasure> => {
    let parsed: Awaited<ReturnType<typeof bareParse>> | undefined;
    const m = await measure(async () => {
      parsed = await bareParse(file);
      return parsed.rows;
    });
    const sumOk = Math.abs(parsed!.sum - checksum) < 1e-6 * Math.max(1, checksum);
    if (parsed!.rows !== ROWS || !sumOk || parsed!.badTimes !== 0) failures.push(`baseline: ${parsed!.rows} rows of ${ROWS}, checksum ${parsed!.sum} vs ${checksum}, ${parsed!.badTimes} bad`);
    return m;
  };

  try {
    const result = await compare({ pairs: PAIRS, warmup: WARMUP, ours, baseline, log });
    if (failures.length > 0) throw new Error(`BENCH.DATA_MISMATCH: ${failures.length} run(s) lost, doubled or misread data:\n${failures.join('\n')}`);
    const oursRate = median(result.ours.map(rate));
    const bareRate = median(result.baseline.map(rate));
    const cpu = { ours: Math.round(cpuPerMillion(result.ours)), bare: Math.round(cpuPerMillion(result.baseline)) };
    const workload = `one tall CSV export of ${ROWS.toLocaleString('en')} rows (${Math.round(fileBytes / 1048576)} MiB; ${TAGS} tags, ISO times, numeric values, quality 192) from the page cache; ours = the connector's CSV source with default settings (batchRows 5,000, no rate limit) into ${telemetryRawV1.name} (${PARTITIONS} partitions, acks=all) through the spool (fsync batch), until Kafka acknowledged every row; bare = createReadStream (256 KiB chunks), line split, field split, Date.parse + Number, no output`;
    recordResult(KEY, {
      value: Number(result.medianRatio.toFixed(3)),
      unit: 'ratio',
      command: COMMAND,
      workload,
      ours: 'startHistorianConnector in this process, one CSV source (defaults) on a fresh drop folder holding the export (hard link), fresh state folder and topic per run; timed from the start to the file finished and spool.flush() resolved (Kafka acknowledged every row)',
      baseline: 'fs.createReadStream of the same file (256 KiB chunks), lines cut at \\n, fields split at \',\', Date.parse(time), Number(value), Number(quality), a checksum; nothing written',
      window: 'ours: connector start (spool open, Kafka connect, folder scan included) to the last row acknowledged by Kafka; baseline: open to the last line parsed',
      pairs: PAIRS,
      warmup: WARMUP,
      spread: { min: Number(result.minRatio.toFixed(3)), max: Number(result.maxRatio.toFixed(3)) },
      ratios: result.ratios.map((r) => Number(r.toFixed(3))),
      rows_per_s: { ours: Math.round(oursRate), bare: Math.round(bareRate) },
      cpu_ms_per_million: { ...cpu, how: 'process.cpuUsage() of this process over the timed window (the broker is not counted)' },
      rows: ROWS,
      file_bytes: fileBytes,
      load_average_1m: { start: Number(loadAtStart.toFixed(1)), end: Number(loadavg()[0]!.toFixed(1)) },
      environment: { ...environment(), kafka: broker.source === 'external' ? 'external' : '3.9 (weir/kafka:3.9)', kafkajs: packageVersion('kafkajs') },
    });
    log(
      `\n| key | value | goal | spread | workload | command | date |\n|---|---|---|---|---|---|---|\n` +
        `| \`${KEY}\` | **${result.medianRatio.toFixed(2)}** (throughput ratio) | — (issue states none) | ${result.minRatio.toFixed(2)}–${result.maxRatio.toFixed(2)} over ${PAIRS} pairs | ${workload}; ours ${Math.round(oursRate).toLocaleString('en')} rows/s (${cpu.ours.toLocaleString('en')} ms CPU per million), bare parse ${Math.round(bareRate).toLocaleString('en')} rows/s (${cpu.bare.toLocaleString('en')} ms CPU per million); every run: Kafka held exactly every row | \`${COMMAND}\` | ${new Date().toISOString().slice(0, 10)} |\n`,
    );
  } finally {
    await admin.disconnect();
    await broker.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
