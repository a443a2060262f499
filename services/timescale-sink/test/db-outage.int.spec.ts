import { telemetryEnrichedV1, type TelemetryEnrichedV1 } from '@weir/contracts';
import type { HealthRegistry } from '@weir/observability';
import { canControlServers, createTestDatabase, metricValue, startTimescale, uniqueTopicPrefix, waitFor, type TestDatabase, type TestTimescale } from '@weir/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { HEALTH } from '../src/common/tokens';
import { sample, scalar, startSink, testKafka, testSettings, waitForCount, type RunningSink } from './helpers';

const OUTAGE_MS = 30_000;

function nth(i: number): TelemetryEnrichedV1 {
  return sample({ sourceId: 'o-src', nodeId: `ns=2;s=O${i % 100}`, seq: i, sourceTime: new Date(Date.parse('2024-07-01T00:00:00Z') + i * 20).toISOString(), value: i % 500, dataType: 'Double' });
}

describe.runIf(canControlServers)('database stopped for 30 s mid-stream', () => {
  let server: TestTimescale;
  let db: TestDatabase;
  let sink: RunningSink | undefined;

  beforeAll(async () => {
    // A server of its own, even when the run uses an external database: this one gets stopped.
    server = await startTimescale({ ...process.env, WEIR_TEST_DATABASE_URL: '' });
    db = await createTestDatabase(server.url, 'weir_sink_outage');
  });
  afterAll(async () => {
    await sink?.stop();
    await server?.stop();
  });

  it('loses nothing, doubles nothing, fails readiness meanwhile and resumes by itself', { timeout: 300_000 }, async () => {
    const prefix = uniqueTopicPrefix('sink-outage');
    const brokers = inject('kafkaBrokers');
    sink = await startSink(testSettings({ brokers, databaseUrl: db.url, topicPrefix: prefix, sink: { feeds: ['telemetry'], retryMaxMs: 2000 } }));
    const health = sink.app.get<HealthRegistry>(HEALTH);
    const { producer } = testKafka(brokers, prefix);
    let produced = 0;
    const produce = async (n: number): Promise<void> => {
      await producer.sendMany(telemetryEnrichedV1, Array.from({ length: n }, (_, k) => nth(produced + k)));
      produced += n;
    };
    try {
      await produce(20_000);
      await waitForCount(db.url, 'select count(*) from telemetry', 20_000);
      expect((await health.report('readiness')).status).toBe('ok');

      await server.outage!.pause();
      const stoppedAt = Date.now();
      // The stream goes on while the database is away: Kafka holds it.
      for (let i = 0; i < 10; i++) {
        await produce(4_000);
        await new Promise((r) => setTimeout(r, 1_000));
      }
      await waitFor(async () => ((await health.report('readiness')).status === 'fail' ? true : undefined), { timeoutMs: 30_000, what: 'readiness to fail' });
      const during = await health.report('readiness');
      expect(during.checks['database']?.ok).toBe(false);
      expect(during.checks['database-writes']?.ok).toBe(false);
      expect(await metricValue(sink.registry, 'weir_sink_db_up')).toBe(0);
      const left = OUTAGE_MS - (Date.now() - stoppedAt);
      if (left > 0) await new Promise((r) => setTimeout(r, left));
      await server.outage!.resume();

      await produce(20_000);
      await waitForCount(db.url, 'select count(*) from telemetry', produced, 120_000);
      expect(produced).toBe(80_000);
      expect(await scalar(db.url, 'select count(distinct seq) from telemetry')).toBe(produced);
      expect(await scalar(db.url, 'select sum(seq) from telemetry')).toBe((produced * (produced - 1)) / 2);
      await waitFor(async () => ((await health.report('readiness')).status === 'ok' ? true : undefined), { timeoutMs: 30_000, what: 'readiness to come back' });
      expect(await metricValue(sink.registry, 'weir_sink_db_errors_total')).toBeGreaterThan(0);
      expect(await metricValue(sink.registry, 'weir_sink_db_up')).toBe(1);
    } finally {
      await producer.close();
    }
  });
});
