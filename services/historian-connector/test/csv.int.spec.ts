import { createWriteStream, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { gzipSync } from 'node:zlib';
import { topicName, telemetryRawV1, type TelemetryRawV1 } from '@weir/contracts';
import { metricValue, removeTempDirs, tempDir, uniqueTopicPrefix, waitFor } from '@weir/testing';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { baseSettings, readTelemetry, startInProcess, type InProcess } from './helpers';

const csvDefaults = { pollInterval: 200, settleTime: 0 };

describe('CSV / TSV drop folder', () => {
  const brokers = inject('kafkaBrokers');
  const running: InProcess[] = [];

  afterAll(async () => {
    for (const r of running) await r.connector.stop();
    removeTempDirs();
  });

  it('reads tall (Berlin time, decimal comma) and wide gzip TSV files exactly, reporting a malformed row and a wrong value by file and line', async () => {
    const prefix = uniqueTopicPrefix();
    const dir = tempDir('drop');
    // Tall, semicolon-separated, German numbers, wall-clock times of Europe/Berlin (CET, +01:00 in January).
    writeFileSync(
      join(dir, 'a-tall.csv'),
      [
        'tag;time;value;quality',
        'Line1.Speed;2026-01-15 10:00:00;1.234,5;Good',
        'Line1.Speed;2026-01-15 10:00:01,5;1.235,25;192',
        'Line1.Temp;2026-01-15 10:00:00;"71,5";Questionable',
        'Line1.Temp;2026-01-15 10:00:01;not-a-number;Good',
        'Line1.Temp;2026-01-15 10:00:02',
        'Line1.Temp;2026-01-15 10:00:03;;Bad',
        'Line1.Temp;2026-01-15T10:00:04Z;72;0',
        '',
      ].join('\n'),
    );
    // Wide, tab-separated, gzip, epoch seconds, a quality column for one tag, an empty cell.
    const wide = ['time\tP1\tP1.quality\tP2', '1768471200\t1.5\t192\t10', '1768471201\t1.75\t64\t', '1768471202\t2\t0\t12'].join('\r\n');
    writeFileSync(join(dir, 'b-wide.tsv.gz'), gzipSync(Buffer.from(wide)));

    const settings = {
      ...baseSettings(brokers, prefix, tempDir('state')),
      sources: [
        { id: 'csv-tall', type: 'csv' as const, dir, include: 'tall\\.csv$', delimiter: ';' as const, timeZone: 'Europe/Berlin', timeFormat: 'iso', decimalSeparator: ',' as const, thousandsSeparator: '.' as const, tagPrefix: 'hist:', ...csvDefaults },
        { id: 'csv-wide', type: 'csv' as const, dir, include: '\\.tsv\\.gz$', layout: 'wide' as const, timeFormat: 'epoch-s', ...csvDefaults },
      ],
    };
    const c = await startInProcess(settings);
    running.push(c);
    const got: TelemetryRawV1[] = [];
    const reader = await readTelemetry(brokers, prefix, (m) => got.push(m));
    try {
      await waitFor(() => (got.length >= 9 ? true : undefined), { timeoutMs: 120_000, what: '9 samples' });
      await waitFor(async () => ((await metricValue(c.metrics, 'weir_historian_files_total')) >= 2 ? true : undefined), { timeoutMs: 60_000, what: 'both files read' });
    } finally {
      await reader.stop();
    }
    expect(reader.invalid()).toBe(0);
    const tall = got.filter((m) => m.sourceId === 'csv-tall').sort((a, b) => a.seq - b.seq);
    expect(tall.map((m) => [m.nodeId, m.sourceTime, m.value, m.status, m.seq])).toEqual([
      ['hist:Line1.Speed', '2026-01-15T09:00:00.000Z', 1234.5, 0, 0],
      ['hist:Line1.Speed', '2026-01-15T09:00:01.500Z', 1235.25, 0, 1],
      ['hist:Line1.Temp', '2026-01-15T09:00:00.000Z', 71.5, 0x40000000, 2],
      ['hist:Line1.Temp', '2026-01-15T09:00:03.000Z', null, 0x80000000, 3],
      ['hist:Line1.Temp', '2026-01-15T10:00:04.000Z', 72, 0x80000000, 4],
    ]);
    expect(tall.every((m) => m.origin === 'historian')).toBe(true);
    const wideGot = got.filter((m) => m.sourceId === 'csv-wide').sort((a, b) => a.seq - b.seq);
    expect(wideGot.map((m) => [m.nodeId, m.sourceTime, m.value, m.status])).toEqual([
      ['P1', '2026-01-15T10:00:00.000Z', 1.5, 0],
      ['P2', '2026-01-15T10:00:00.000Z', 10, 0],
      ['P1', '2026-01-15T10:00:01.000Z', 1.75, 0x40000000],
      ['P1', '2026-01-15T10:00:02.000Z', 2, 0x80000000],
      ['P2', '2026-01-15T10:00:02.000Z', 12, 0],
    ]);
    // Two bad rows, each reported with file and line; the rest went on.
    expect(await metricValue(c.metrics, 'weir_historian_bad_input_total', { source: 'csv-tall', code: 'HISTORIAN.BAD_ROW' })).toBe(2);
    const bad = c.logs.filter((l) => l['code'] === 'HISTORIAN.BAD_ROW').map((l) => [l['file'], l['line'], l['problem']]);
    expect(bad).toEqual([
      ['a-tall.csv', 5, 'value "not-a-number" is not a number'],
      ['a-tall.csv', 6, '2 fields, the header has 4'],
    ]);
  });

  it('ingests 1,000,000 rows with memory that does not grow with the file, and resumes a file from its checkpoint', async () => {
    const prefix = uniqueTopicPrefix();
    const dir = tempDir('big');
    const staging = tempDir('staging');
    mkdirSync(staging, { recursive: true });
    const rows = 1_000_000;
    const file = join(staging, 'big.csv');
    // Long tag names make the file large (~83 MB): holding it, or its rows, in memory would break the bound below.
    await new Promise<void>((resolve, reject) => {
      const out = createWriteStream(file);
      out.on('error', reject);
      out.write('tag,time,value,quality\n');
      const t0 = Date.UTC(2026, 0, 1);
      let i = 0;
      const more = (): void => {
        let ok = true;
        while (i < rows && ok) {
          let chunk = '';
          for (let k = 0; k < 1000 && i < rows; k++, i++) chunk += `Enterprise/Site01/Area01/Line01/Machine${String(i % 100).padStart(3, '0')}/Value,${new Date(t0 + Math.floor(i / 100) * 1000).toISOString()},${(i % 1000) / 10},192\n`;
          ok = out.write(chunk);
        }
        if (i < rows) out.once('drain', more);
        else out.end(resolve);
      };
      more();
    });
    const fileBytes = statSync(file).size;
    const bound = 64 * 1024 * 1024;
    expect(fileBytes).toBeGreaterThan(bound);

    const settings = { ...baseSettings(brokers, prefix, tempDir('state')), sources: [{ id: 'csv-big', type: 'csv' as const, dir, ...csvDefaults }] };
    const c = await startInProcess(settings);
    running.push(c);
    // Retained memory, not garbage: a full GC before each reading (heapUsed alone peaks with uncollected garbage at any file size).
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    gc();
    const mem0 = process.memoryUsage();
    let peakHeap = mem0.heapUsed;
    let peakRss = mem0.rss;
    const sample = (): void => {
      gc();
      const m = process.memoryUsage();
      peakHeap = Math.max(peakHeap, m.heapUsed);
      peakRss = Math.max(peakRss, m.rss);
    };
    // A full GC every 2 s (not more often: each one stalls the reader): holding the file (larger than the bound)
    // would show in every sample while it is read, and anything kept per row is largest at the end, sampled below.
    const sampler = setInterval(sample, 2000);
    try {
      // Dropped in whole (a rename), as a well-behaved exporter does.
      const { renameSync } = await import('node:fs');
      renameSync(file, join(dir, 'big.csv'));
      await waitFor(async () => ((await metricValue(c.metrics, 'weir_historian_files_total', { source: 'csv-big' })) >= 1 ? true : undefined), { timeoutMs: 900_000, intervalMs: 500, what: 'the big file to be read' });
      await c.connector.spool.flush();
      sample();
    } finally {
      clearInterval(sampler);
    }
    const heapGrowth = peakHeap - mem0.heapUsed;
    const rssGrowth = peakRss - mem0.rss;
    process.stdout.write(`1M rows: file ${Math.round(fileBytes / 1048576)} MB, peak retained heap growth ${Math.round(heapGrowth / 1048576)} MB, peak RSS growth ${Math.round(rssGrowth / 1048576)} MB\n`);
    expect(heapGrowth).toBeLessThan(bound);
    expect(await metricValue(c.metrics, 'weir_historian_samples_total', { source: 'csv-big' })).toBe(rows);
    expect(await metricValue(c.metrics, 'weir_historian_bad_input_total', { source: 'csv-big' })).toBe(0);

    // Everything is in Kafka: the topic of this prefix holds exactly the rows (offsets count messages).
    const kafka = new Kafka({ clientId: 'historian-test-offsets', brokers, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    try {
      const offsets = await admin.fetchTopicOffsets(topicName(telemetryRawV1, prefix));
      expect(offsets.reduce((a, o) => a + Number(o.high), 0)).toBe(rows);
    } finally {
      await admin.disconnect();
    }

    // A restart does not read the finished file again.
    await c.connector.stop();
    running.splice(running.indexOf(c), 1);
    const again = await startInProcess(settings);
    running.push(again);
    await waitFor(() => (again.connector.sources[0]!.health().ok ? true : undefined), { timeoutMs: 30_000, what: 'the folder to be scanned' });
    await waitFor(async () => ((await metricValue(again.metrics, 'weir_historian_files_total')) === 0 ? true : undefined), { timeoutMs: 5_000, what: 'no file read' });
    expect(await metricValue(again.metrics, 'weir_historian_samples_total')).toBe(0);
  }, 1_200_000);
});
