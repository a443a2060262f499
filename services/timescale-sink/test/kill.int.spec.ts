import { telemetryEnrichedV1, topicName, type TelemetryEnrichedV1 } from '@weir/contracts';
import { createTestDatabase, type Exit, killServiceProcesses, ServiceProcess, uniqueTopicPrefix, waitFor, type TestDatabase } from '@weir/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { sample, scalar, testKafka, waitForCommitted, waitForCount } from './helpers';

const TOTAL = 300_000;
const APP = 'weir-sink-kill-test';

function nth(i: number): TelemetryEnrichedV1 {
  return sample({ sourceId: 'k-src', nodeId: `ns=2;s=K${i % 300}`, seq: i, sourceTime: new Date(Date.parse('2024-06-01T00:00:00Z') + i * 5).toISOString(), value: i % 1000, dataType: 'Double' });
}

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase(inject('databaseUrl'), 'weir_sink_kill');
});
afterAll(async () => {
  await killServiceProcesses();
  await db?.drop();
});

/**
 * The sink as its own process, from source, configured through the environment like in production;
 * SIGKILL reaches the sink itself (no wrapper process that would leave it running).
 */
function startProcess(prefix: string): ServiceProcess {
  return new ServiceProcess({
    main: 'services/timescale-sink/src/main.ts',
    env: {
      WEIR_DATABASE__URL: db.url,
      WEIR_DATABASE__APPLICATION_NAME: APP,
      WEIR_KAFKA__BROKERS: inject('kafkaBrokers').join(','),
      WEIR_KAFKA__TOPIC_PREFIX: prefix,
      WEIR_KAFKA__PARTITIONS: '3',
      WEIR_SINK__FEEDS: 'telemetry',
      WEIR_SINK__BATCH_SIZE: '2000',
      WEIR_OBSERVABILITY__OPS_PORT: '0',
      WEIR_OBSERVABILITY__LOG_LEVEL: 'error',
    },
  });
}

// True while the sink has a transaction open, i.e. a batch is between BEGIN and COMMIT.
const IN_BATCH = `select count(*) from pg_stat_activity where application_name = '${APP}' and xact_start is not null and state in ('active', 'idle in transaction')`;

describe('sink killed with SIGKILL mid-batch', () => {
  it('stores every sample exactly once after two kills and restarts', { timeout: 600_000 }, async () => {
    const prefix = uniqueTopicPrefix('sink-kill');
    const { kafka, producer } = testKafka(inject('kafkaBrokers'), prefix);
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: topicName(telemetryEnrichedV1, prefix), numPartitions: 3 }] });
    await admin.disconnect();
    for (let from = 0; from < TOTAL; from += 50_000) await producer.sendMany(telemetryEnrichedV1, Array.from({ length: 50_000 }, (_, k) => nth(from + k)));
    await producer.close();

    for (const killAt of [TOTAL / 4, TOTAL / 2]) {
      const child = startProcess(prefix);
      // Kill once rows are arriving and a batch transaction is open right now.
      // The table appears only once the child has migrated the database.
      const stored = (): Promise<number> => scalar(db.url, 'select count(*) from telemetry').catch(() => 0);
      await waitFor(async () => ((await stored()) >= killAt && (await scalar(db.url, IN_BATCH)) > 0 ? true : undefined), {
        timeoutMs: 120_000,
        intervalMs: 5,
        what: `a batch in progress after ${killAt} rows`,
      });
      expect(await child.stop('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
      expect(await scalar(db.url, 'select count(*) from telemetry')).toBeLessThan(TOTAL);
    }

    const child = startProcess(prefix);
    let exit: Promise<Exit> | undefined;
    try {
      await waitForCount(db.url, 'select count(*) from telemetry', TOTAL, 300_000);
      await waitForCommitted(kafka, `timescale-sink.${telemetryEnrichedV1.name}`, topicName(telemetryEnrichedV1, prefix), 120_000);
    } finally {
      exit = child.stop('SIGTERM');
    }
    expect(await exit, child.output.slice(-2000)).toEqual({ code: 0, signal: null });
    expect(await scalar(db.url, 'select count(*) from telemetry')).toBe(TOTAL);
    expect(await scalar(db.url, 'select count(distinct seq) from telemetry')).toBe(TOTAL);
    expect(await scalar(db.url, 'select sum(seq) from telemetry')).toBe((TOTAL * (TOTAL - 1)) / 2);
    expect(await scalar(db.url, 'select count(*) from series')).toBe(300);
  });
});
