import { erpAssetsV1, erpProductionOrdersV1, erpShiftsV1, erpWorkOrdersV1, telemetryRawV1, topicName, type ErpAssetV1, type ErpProductionOrderV1, type ErpShiftV1, type ErpWorkOrderV1, telemetryEnrichedV1, type TelemetryContextV1, type TelemetryEnrichedV1, type TelemetryRawV1 } from '@weir/contracts';
import { BatchingProducer, createKafkaClient, ensureTopics, kafkaSettingsSchema, provisioningOptions } from '@weir/kafka';
import { createLogger, type Logger } from '@weir/observability';
import { waitFor } from '@weir/testing';
import type { Kafka, KafkaMessage } from 'kafkajs';
import { enricherSettingsSchema, type EnricherSettings } from '../src/config';
import { EnricherApplication } from '../src/enricher.application';

/** Test log level: quiet unless WEIR_TEST_LOG_LEVEL says otherwise. */
export function testLogger(service = 'enricher-int-test'): Logger {
  return createLogger({ service, level: process.env['WEIR_TEST_LOG_LEVEL'] ?? 'error' });
}

/** The mapping rule of the scenario plant: `ns=2;s=<Line>.<Machine>.<Measurement>` -> asset id `<machine>` lower-cased. */
export const SCENARIO_RULES = [{ kind: 'pattern', name: 'machines', target: 'nodeId', regex: '^ns=2;s=\\w+\\.(\\w+)\\.\\w+$', assetId: '${1:lower}' }] as const;

/**
 * A consumer group per test: kafkajs hands every member of a group the partitions of every topic
 * any member subscribed to, so tests on other topics must never share one (nor a transactional id).
 */
export const testGroupId = (topicPrefix: string): string => `enricher.${topicPrefix.replace(/\.$/, '')}`;

/** Enricher settings for an in-process test instance. */
export function testSettings(brokers: string[], topicPrefix: string, enricher: Record<string, unknown> = {}): EnricherSettings {
  return enricherSettingsSchema.parse({
    kafka: { brokers, clientId: 'enricher-int-test', topicPrefix, partitions: 3, replicationFactor: 1 },
    observability: { logLevel: process.env['WEIR_TEST_LOG_LEVEL'] ?? 'error', opsPort: 0 },
    enricher: { groupId: testGroupId(topicPrefix), mapping: SCENARIO_RULES, sessionTimeoutMs: 6000, heartbeatIntervalMs: 1000, contextLoadTimeoutMs: 60_000, ...enricher },
  });
}

/** Starts an enricher in this process. */
export async function startEnricher(settings: EnricherSettings): Promise<EnricherApplication> {
  const app = new EnricherApplication(settings, { logger: testLogger(), opsServer: false });
  await app.start();
  return app;
}

/** A Kafka client and a producer on the test broker and prefix. */
export function testKafka(brokers: string[], topicPrefix: string, logger = testLogger()): { kafka: Kafka; producer: BatchingProducer } {
  const kafka = createKafkaClient(kafkaSettingsSchema.parse({ brokers, clientId: 'enricher-int-input' }), logger);
  return { kafka, producer: new BatchingProducer(kafka, { logger, topicPrefix, maxBatchMessages: 5000 }) };
}

/** Creates the input, output and ERP topics (3 partitions each) under `prefix`. */
export async function createTopics(kafka: Kafka, brokers: string[], prefix: string): Promise<void> {
  const options = provisioningOptions(kafkaSettingsSchema.parse({ brokers, topicPrefix: prefix, partitions: 3, replicationFactor: 1 }));
  // A broker that has just started may answer "does not host this topic-partition" while leaders settle; provisioning is idempotent, so try again.
  await waitFor(
    async () => {
      const admin = kafka.admin();
      await admin.connect();
      try {
        await ensureTopics(admin, [telemetryRawV1, telemetryEnrichedV1, erpAssetsV1, erpProductionOrdersV1, erpWorkOrdersV1, erpShiftsV1], options);
        return true;
      } catch {
        return undefined;
      } finally {
        await admin.disconnect();
      }
    },
    { timeoutMs: 60_000, intervalMs: 500, what: `topics under ${prefix}` },
  );
}

const DAY = '2024-06-01';
const at = (hhmm: string): string => `${DAY}T${hhmm}:00.000Z`;
const base = { changedAt: at('00:00'), attributes: {} };
const asset = (id: string, parentId: string | null, level: ErpAssetV1['level'], path: string, extra: Partial<ErpAssetV1> = {}): ErpAssetV1 => ({ ...base, id, parentId, level, name: id, path, validFrom: '2020-01-01T00:00:00.000Z', validTo: null, ...extra });

/** The scenario plant: one site, one line with a filler and a capper. */
export const SCENARIO_ASSETS: ErpAssetV1[] = [
  asset('acme', null, 'enterprise', 'acme'),
  asset('hh', 'acme', 'site', 'acme/hh'),
  asset('line1', 'hh', 'line', 'acme/hh/line1', { costCentre: 'CC-100' }),
  asset('filler1', 'line1', 'machine', 'acme/hh/line1/filler1', { limits: { temperature: { low: 2, high: 8, unit: 'CEL' } } }),
  asset('capper1', 'line1', 'machine', 'acme/hh/line1/capper1', { costCentre: 'CC-200' }),
];
/** Order A until 12:00, then order B: the order change mid-stream. */
export const SCENARIO_ORDERS: ErpProductionOrderV1[] = [
  { ...base, id: 'PO-A', assetId: 'line1', material: 'MAT-A', plannedQuantity: 1000, status: 'completed', idealCycleTimeS: 2, validFrom: at('08:00'), validTo: at('12:00') },
  { ...base, id: 'PO-B', assetId: 'line1', material: 'MAT-B', plannedQuantity: 500, status: 'in-progress', validFrom: at('12:00'), validTo: null },
];
/** A work order on the filler opening at 10:00 and closing at 11:00. */
export const SCENARIO_WORK_ORDERS: ErpWorkOrderV1[] = [{ ...base, id: 'WO-1', assetId: 'filler1', type: 'PM01', status: 'closed', validFrom: at('10:00'), validTo: at('11:00') }];
/** Early and late shift at the site. */
export const SCENARIO_SHIFTS: ErpShiftV1[] = [
  { ...base, id: 'hh-early', siteId: 'hh', name: 'early', plannedBreakMinutes: 30, validFrom: at('06:00'), validTo: at('14:00') },
  { ...base, id: 'hh-late', siteId: 'hh', name: 'late', plannedBreakMinutes: 30, validFrom: at('14:00'), validTo: at('22:00') },
];

/** Publishes the scenario's ERP context. */
export async function publishScenarioContext(producer: BatchingProducer): Promise<void> {
  await producer.sendMany(erpAssetsV1, SCENARIO_ASSETS);
  await producer.sendMany(erpProductionOrdersV1, SCENARIO_ORDERS);
  await producer.sendMany(erpWorkOrdersV1, SCENARIO_WORK_ORDERS);
  await producer.sendMany(erpShiftsV1, SCENARIO_SHIFTS);
}

const SERIES = ['ns=2;s=Line1.Filler1.Temperature', 'ns=2;s=Line1.Filler1.Speed', 'ns=2;s=Line1.Capper1.Torque', 'ns=5;i=4711'];
const START = Date.parse(at('07:00'));

/** Sample `i` of the scenario: four series round-robin (the last one unmapped), one every 250 ms from 07:00. */
export function scenarioSample(i: number, sourceId = 'plc-1'): TelemetryRawV1 {
  return { sourceId, nodeId: SERIES[i % SERIES.length]!, seq: i, origin: 'opcua', value: i % 97, status: 0, dataType: 'Double', sourceTime: new Date(START + i * 250).toISOString() };
}

/**
 * The context the scenario sample should carry, written out by hand from the
 * scenario's intervals (independent of the enricher's lookup code).
 */
export function expectedContext(s: TelemetryRawV1): TelemetryContextV1 {
  const none: TelemetryContextV1 = { asset: null, productionOrder: null, workOrder: null, shift: null, costCentre: null, unit: null, limits: null };
  if (!s.nodeId.startsWith('ns=2;')) return none;
  const t = Date.parse(s.sourceTime);
  const filler = s.nodeId.includes('Filler1');
  const h = (hhmm: string): number => Date.parse(at(hhmm));
  const order = t >= h('08:00') && t < h('12:00') ? { id: 'PO-A', material: 'MAT-A', idealCycleTimeS: 2 } : t >= h('12:00') ? { id: 'PO-B', material: 'MAT-B' } : null;
  const shift = t >= h('06:00') && t < h('14:00') ? { id: 'hh-early', name: 'early' } : t >= h('14:00') && t < h('22:00') ? { id: 'hh-late', name: 'late' } : null;
  const temperature = s.nodeId.endsWith('Temperature');
  return {
    asset: filler ? { id: 'filler1', path: 'acme/hh/line1/filler1', name: 'filler1', level: 'machine' } : { id: 'capper1', path: 'acme/hh/line1/capper1', name: 'capper1', level: 'machine' },
    productionOrder: order,
    workOrder: filler && t >= h('10:00') && t < h('11:00') ? { id: 'WO-1', type: 'PM01', status: 'closed' } : null,
    shift,
    costCentre: filler ? 'CC-100' : 'CC-200',
    unit: temperature ? 'CEL' : null,
    limits: temperature ? { low: 2, high: 8 } : null,
  };
}

/** Waits until the enricher group's committed offsets reach the end of the input topic. */
export async function waitForInputConsumed(kafka: Kafka, groupId: string, topic: string, timeoutMs = 300_000): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await waitFor(
      async () => {
        const ends = await admin.fetchTopicOffsets(topic);
        const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
        const done = ends.every((e) => {
          const c = committed?.partitions.find((p) => p.partition === e.partition);
          return BigInt(e.high) === 0n || (c !== undefined && c.offset !== '-1' && BigInt(c.offset) >= BigInt(e.high));
        });
        return done ? true : undefined;
      },
      { timeoutMs, intervalMs: 250, what: `group ${groupId} at the end of ${topic}` },
    );
  } finally {
    await admin.disconnect();
  }
}

/** Sum of the committed offsets of `groupId` on `topic` (how many input messages are done). */
export async function committedTotal(kafka: Kafka, groupId: string, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return (committed?.partitions ?? []).reduce((sum, p) => sum + (p.offset === '-1' ? 0 : Number(p.offset)), 0);
  } finally {
    await admin.disconnect();
  }
}

/** Full name of the input topic under `prefix`. */
export const rawTopic = (prefix: string): string => topicName(telemetryRawV1, prefix);

/**
 * Reads every message of `topic` from the beginning up to its end offsets at the time of the call
 * (read_committed unless `readUncommitted`), handing each to `onMessage`. Call it once the writers
 * are done (e.g. after `waitForInputConsumed`): then the end offsets bound everything there is,
 * and a duplicate cannot hide behind a count that was reached early. Control records (transaction
 * markers) count as read, so the end is reached without any grace period.
 */
export async function readToEnd(kafka: Kafka, topic: string, onMessage: (m: KafkaMessage, partition: number) => void, options: { readUncommitted?: boolean; timeoutMs?: number } = {}): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  let ends: Map<number, bigint>;
  try {
    ends = new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, BigInt(o.high)]));
  } finally {
    await admin.disconnect();
  }
  const position = new Map<number, bigint>();
  const consumer = kafka.consumer({ groupId: `reader-${Math.random().toString(36).slice(2)}`, readUncommitted: options.readUncommitted ?? false, maxWaitTimeInMs: 200, maxBytesPerPartition: 4 * 1024 * 1024 });
  consumer.on(consumer.events.END_BATCH_PROCESS, (e) => {
    position.set(e.payload.partition, BigInt(e.payload.lastOffset) + 1n);
  });
  const done = (): boolean => [...ends].every(([p, end]) => end === 0n || (position.get(p) ?? 0n) >= end);
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) onMessage(m, batch.partition);
        await Promise.resolve();
      },
    });
    await waitFor(() => (done() ? true : undefined), { timeoutMs: options.timeoutMs ?? 120_000, intervalMs: 50, what: `the end of ${topic} (${[...ends].map(([p, e]) => `${p}: ${position.get(p) ?? 0n}/${e}`).join(', ')})` });
  } finally {
    await consumer.disconnect();
  }
}

/** Source id of scenario sample `i` in the larger runs: eight sources, so 32 series spread over every partition. */
export const bulkSourceOf = (i: number): string => `plc-${Math.floor(i / 4) % 8}`;

/** Produces scenario samples `0..total-1` (sources by `bulkSourceOf`) in chunks. */
export async function produceBulk(producer: BatchingProducer, total: number, chunk = 25_000): Promise<void> {
  for (let from = 0; from < total; from += chunk) {
    const n = Math.min(chunk, total - from);
    await producer.sendMany(telemetryRawV1, Array.from({ length: n }, (_, k) => scenarioSample(from + k, bulkSourceOf(from + k))));
  }
}

/** What checking an output topic against the bulk scenario found. */
export interface BulkCheck {
  /** Messages read. */
  read: number;
  /** Distinct (sourceId, seq) pairs seen. */
  distinct: number;
  /** Pairs seen more than once. */
  duplicates: number;
  /** Samples of `0..total-1` never seen. */
  missing: number;
  /** Messages whose fields or context differ from the expected ones, or that are not from the scenario. */
  wrong: number;
  /** The first few differences, for the failure message. */
  examples: string[];
}

/**
 * Reads an enriched topic to its end with read_committed and checks it against the bulk scenario:
 * every (sourceId, seq) of `0..total-1` exactly once, each with its own fields and the context
 * `expectedContext` derives by hand. Streams: holds a count per sample, not the messages.
 */
export async function checkBulkOutput(kafka: Kafka, topic: string, total: number): Promise<BulkCheck> {
  const seen = new Uint8Array(total);
  const r: BulkCheck = { read: 0, distinct: 0, duplicates: 0, missing: 0, wrong: 0, examples: [] };
  await readToEnd(
    kafka,
    topic,
    (m) => {
      r.read++;
      const got = JSON.parse(m.value!.toString('utf8')) as TelemetryEnrichedV1;
      const i = got.seq;
      if (!Number.isInteger(i) || i < 0 || i >= total || got.sourceId !== bulkSourceOf(i)) {
        r.wrong++;
        if (r.examples.length < 5) r.examples.push(`unexpected sample ${got.sourceId}/${got.seq}`);
        return;
      }
      if (seen[i]! > 0) r.duplicates++;
      else r.distinct++;
      seen[i] = Math.min(255, seen[i]! + 1);
      const { context, ...rest } = got;
      const want = scenarioSample(i, bulkSourceOf(i));
      if (!sameFields(rest, want) || JSON.stringify(context) !== JSON.stringify(expectedContext(want))) {
        r.wrong++;
        if (r.examples.length < 5) r.examples.push(`${got.sourceId}/${i}: got ${JSON.stringify(got)}, want context ${JSON.stringify(expectedContext(want))}`);
      }
    },
    { timeoutMs: 300_000 },
  );
  for (let i = 0; i < total; i++) if (seen[i] === 0) r.missing++;
  return r;
}

// Field by field: the schema decides the key order of what the enricher writes, the fixture its own.
function sameFields(got: Record<string, unknown>, want: Record<string, unknown>): boolean {
  const keys = Object.keys(want);
  return Object.keys(got).length === keys.length && keys.every((k) => got[k] === want[k]);
}
