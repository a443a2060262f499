import { createWriteStream, renameSync } from 'node:fs';
import { join } from 'node:path';
import { removeTempDirs, scrapeMetric, type ServiceProcess, tempDir, uniqueTopicPrefix, waitFor } from '@weir/testing';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { baseSettings, readTelemetry, spawnConnector, type Reader } from './helpers';

const ROWS = 400_000;
const TAGS = 50;
const T0 = Date.UTC(2026, 1, 1);

/** Writes a tall CSV whose row i (0-based) has the value i: every value names its row. */
async function writeCsv(file: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const out = createWriteStream(file);
    out.on('error', reject);
    out.write('tag,time,value,quality\n');
    let i = 0;
    const more = (): void => {
      let ok = true;
      while (i < ROWS && ok) {
        let chunk = '';
        for (let k = 0; k < 1000 && i < ROWS; k++, i++) chunk += `Area1/Machine${String(i % TAGS).padStart(2, '0')}/Value,${new Date(T0 + Math.floor(i / TAGS) * 1000).toISOString()},${i},192\n`;
        ok = out.write(chunk);
      }
      if (i < ROWS) out.once('drain', more);
      else out.end(resolve);
    };
    more();
  });
}

describe('CSV file resumed mid-file after SIGKILL (child process)', () => {
  const brokers = inject('kafkaBrokers');

  afterAll(() => removeTempDirs());

  it('reads every row into Kafka exactly once when the connector is killed part-way through a file and restarted', async () => {
    const dir = tempDir('drop');
    const staging = tempDir('staging');
    await writeCsv(join(staging, 'resume.csv'));
    renameSync(join(staging, 'resume.csv'), join(dir, 'resume.csv'));

    const prefix = uniqueTopicPrefix();
    const stateDir = tempDir('state');
    const settings = {
      ...baseSettings(brokers, prefix, stateDir),
      progressInterval: 250,
      // A rate limit keeps the read long enough to be killed in the middle whatever the machine's speed.
      sources: [{ id: 'csv-resume', type: 'csv' as const, dir, pollInterval: 200, settleTime: 0, rowsPerSecond: 100_000 }],
    };

    // Per row the seq that carried it; a resend of the same seq is fine (the sink deduplicates on it), another seq is a doubled row.
    const seqOf = new Float64Array(ROWS).fill(-1);
    const seqs = new Set<number>();
    const problems: string[] = [];
    let distinct = 0;
    let reader: Reader | undefined;
    let first: ServiceProcess | undefined;
    let second: ServiceProcess | undefined;
    const progress = (c: ServiceProcess): Promise<number> => c.metric('weir_historian_job_progress_ratio', { job: 'resume.csv' });
    try {
      first = await spawnConnector(settings, stateDir);
      reader = await readTelemetry(
        brokers,
        prefix,
        (m) => {
          const row = m.value as number;
          if (m.sourceId !== 'csv-resume' || !Number.isInteger(row) || row < 0 || row >= ROWS) {
            if (problems.length < 20) problems.push(`unexpected sample ${m.sourceId} ${m.nodeId} ${String(m.value)}`);
            return;
          }
          const want = `Area1/Machine${String(row % TAGS).padStart(2, '0')}/Value|${new Date(T0 + Math.floor(row / TAGS) * 1000).toISOString()}`;
          if (`${m.nodeId}|${m.sourceTime}` !== want && problems.length < 20) problems.push(`row ${row} arrived as ${m.nodeId} ${m.sourceTime}`);
          seqs.add(m.seq);
          if (seqOf[row] === -1) {
            seqOf[row] = m.seq;
            distinct++;
          } else if (seqOf[row] !== m.seq && problems.length < 20) {
            problems.push(`doubled: row ${row} carried by seq ${seqOf[row]} and ${m.seq}`);
          }
        },
        false,
      );
      // Kill it once part of the file is durable, well before the end. (Generous timeouts: nothing here measures time.)
      await waitFor(async () => ((await progress(first!)) > 0.25 ? true : undefined), { timeoutMs: 300_000, intervalMs: 100, what: 'a quarter of the file read' });
      await first.stop('SIGKILL');
      expect(distinct).toBeLessThan(ROWS);

      second = await spawnConnector(settings, stateDir);
      await waitFor(async () => ((await second!.metric('weir_historian_files_total', { source: 'csv-resume' })) >= 1 ? true : undefined), { timeoutMs: 600_000, intervalMs: 250, what: 'the file to be finished' });
      const secondPage = (await second.get('/metrics')).body;
      await waitFor(() => (distinct >= ROWS ? true : undefined), { timeoutMs: 300_000, intervalMs: 250, what: `all ${ROWS} rows in Kafka (have ${distinct})` });

      // The second run resumed after the last durable line of the first: it read only the rest of the file.
      const readBySecond = scrapeMetric(secondPage, 'weir_historian_job_rows_total', { job: 'resume.csv' });
      expect(readBySecond).toBeGreaterThan(0);
      expect(readBySecond).toBeLessThan(ROWS);
      expect(scrapeMetric(secondPage, 'weir_historian_files_total', { outcome: 'ok' })).toBe(1);
      expect(scrapeMetric(secondPage, 'weir_historian_bad_input_total', { source: 'csv-resume' })).toBe(0);

      expect(await second.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    } catch (err) {
      process.stderr.write(`first:\n${first?.output.slice(-3000) ?? ''}\nsecond:\n${second?.output.slice(-6000) ?? ''}\n`);
      throw err;
    } finally {
      await first?.stop('SIGKILL');
      await second?.stop('SIGKILL');
      await reader?.stop();
    }

    expect(problems).toEqual([]);
    expect(distinct).toBe(ROWS);
    // Sequence numbers 0..ROWS-1, none skipped and none spent twice: no row was written to the spool a second time.
    expect(seqs.size).toBe(ROWS);
    let outside = 0;
    for (const s of seqs) if (s < 0 || s >= ROWS) outside++;
    expect(outside).toBe(0);
  }, 1_200_000);
});
