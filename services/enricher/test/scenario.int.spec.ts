import { dlqTopicName, erpWorkOrdersV1, telemetryEnrichedV1, telemetryRawV1, topicName, type TelemetryEnrichedV1 } from '@weir/contracts';
import { metricValue, uniqueTopicPrefix, waitFor } from '@weir/testing';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { EnricherApplication } from '../src/enricher.application';
import { createTopics, expectedContext, publishScenarioContext, rawTopic, readToEnd, scenarioSample, startEnricher, testKafka, testSettings, waitForInputConsumed } from './helpers';

// 07:00 to 15:00 at 4 samples/s, inclusive.
const TOTAL = 8 * 60 * 60 * 4 + 1;
const apps: EnricherApplication[] = [];
afterAll(async () => {
  for (const a of apps) await a.stop();
});

describe('enricher against real Kafka', () => {
  it('gives every sample exactly the context valid at its source time (order change, work order open/close, shifts), DLQs invalid input and counts unknown series', { timeout: 600_000 }, async () => {
    const brokers = inject('kafkaBrokers');
    const prefix = uniqueTopicPrefix('enr-scn');
    const { kafka, producer } = testKafka(brokers, prefix);
    await createTopics(kafka, brokers, prefix);
    await publishScenarioContext(producer);
    const settings = testSettings(brokers, prefix);
    const app = await startEnricher(settings);
    apps.push(app);
    expect(app.store.sizes()).toEqual({ asset: 5, productionOrder: 2, workOrder: 1, shift: 2 });

    // 07:00 .. 15:00 in steps of 250 ms over four series: before the first order, across the order change at 12:00,
    // across the work order 10:00-11:00 and the shift change at 14:00.
    const total = TOTAL;
    const samples = Array.from({ length: total }, (_, i) => scenarioSample(i));
    for (let i = 0; i < samples.length; i += 20_000) await producer.sendMany(telemetryRawV1, samples.slice(i, i + 20_000));
    // One message that is not JSON and one that breaks the schema: both to the DLQ, neither in the output.
    const raw = kafka.producer();
    await raw.connect();
    await raw.send({ topic: topicName(telemetryRawV1, prefix), messages: [{ key: 'bad', value: 'not json' }, { key: 'bad2', value: JSON.stringify({ sourceId: 'x', seq: -1 }) }] });
    await raw.disconnect();

    await waitForInputConsumed(kafka, settings.enricher.groupId, rawTopic(prefix), 300_000);
    const out: TelemetryEnrichedV1[] = [];
    await readToEnd(kafka, topicName(telemetryEnrichedV1, prefix), (m) => out.push(JSON.parse(m.value!.toString('utf8')) as TelemetryEnrichedV1));
    expect(out).toHaveLength(total);
    const bySeq = new Map(out.map((s) => [s.seq, s]));
    expect(bySeq.size).toBe(total);
    let mismatches = 0;
    for (const s of samples) {
      const got = bySeq.get(s.seq)!;
      expect(got.nodeId).toBe(s.nodeId);
      if (JSON.stringify(got.context) !== JSON.stringify(expectedContext(s))) {
        mismatches++;
        if (mismatches < 3) expect(got.context).toEqual(expectedContext(s));
      }
    }
    expect(mismatches).toBe(0);
    // Spot checks a person would make: the order switches at 12:00 sharp; the work order only 10:00-11:00.
    const at = (iso: string, node: string) => out.find((s) => s.sourceTime === iso && s.nodeId === node)!;
    // Four series round-robin, 250 ms apart: the Speed sample just before noon is at 11:59:59.250.
    expect(at('2024-06-01T11:59:59.250Z', 'ns=2;s=Line1.Filler1.Speed').context.productionOrder?.id).toBe('PO-A');
    expect(at('2024-06-01T12:00:00.000Z', 'ns=2;s=Line1.Filler1.Temperature').context.productionOrder?.id).toBe('PO-B');
    expect(at('2024-06-01T10:00:00.000Z', 'ns=2;s=Line1.Filler1.Temperature').context.workOrder?.id).toBe('WO-1');
    expect(at('2024-06-01T11:00:00.000Z', 'ns=2;s=Line1.Filler1.Temperature').context.workOrder).toBeNull();

    // Both invalid messages in the DLQ, byte for byte, with the reason; nothing else there.
    const dlq: { key: string; value: string; code: string; reason: string; sourceTopic: string }[] = [];
    await readToEnd(kafka, dlqTopicName(telemetryRawV1, prefix), (m) =>
      dlq.push({ key: m.key!.toString(), value: m.value!.toString(), code: String(m.headers!['weir-error-code']), reason: String(m.headers!['weir-error-reason']), sourceTopic: String(m.headers!['weir-source-topic']) }),
    );
    dlq.sort((a, b) => a.key.localeCompare(b.key));
    expect(dlq.map(({ key, value, code, sourceTopic }) => ({ key, value, code, sourceTopic }))).toEqual([
      { key: 'bad', value: 'not json', code: 'CONTRACTS.NOT_JSON', sourceTopic: rawTopic(prefix) },
      { key: 'bad2', value: JSON.stringify({ sourceId: 'x', seq: -1 }), code: 'CONTRACTS.SCHEMA', sourceTopic: rawTopic(prefix) },
    ]);
    expect(dlq[1]!.reason).toMatch(/seq: /);
    const unknown = await metricValue(app.metrics, 'weir_enricher_samples_total', { outcome: 'unknown-series' });
    // Samples 3, 7, 11, ... are of the unmapped series (28,800); a retried batch would count again, so at least that many.
    expect(unknown).toBeGreaterThanOrEqual(Math.floor(total / 4));
    expect(out.filter((s) => s.nodeId === 'ns=5;i=4711').every((s) => Object.values(s.context).every((v) => v === null))).toBe(true);
    const dlqMetric = await app.metrics.getSingleMetricAsString('weir_kafka_consumer_dlq_total');
    expect(dlqMetric).toMatch(/code="CONTRACTS.NOT_JSON"[^\n]*\} 1/);
    expect(dlqMetric).toMatch(/code="CONTRACTS.SCHEMA"[^\n]*\} 1/);

    // Context that changes while the enricher runs is picked up: a new work order on the capper, then samples in it.
    await producer.send(erpWorkOrdersV1, { id: 'WO-2', assetId: 'capper1', type: 'PM02', status: 'released', validFrom: '2024-06-02T08:00:00.000Z', validTo: null, changedAt: '2024-06-02T07:00:00.000Z', attributes: {} });
    await waitFor(() => (app.store.sizes().workOrder === 2 ? true : undefined), { timeoutMs: 30_000, what: 'WO-2 applied' });
    await producer.send(telemetryRawV1, { sourceId: 'plc-2', nodeId: 'ns=2;s=Line1.Capper1.Torque', seq: 0, origin: 'opcua', value: 1, status: 0, sourceTime: '2024-06-02T09:00:00.000Z' });
    await producer.close();
    await waitForInputConsumed(kafka, settings.enricher.groupId, rawTopic(prefix), 60_000);
    const withNew: TelemetryEnrichedV1[] = [];
    await readToEnd(kafka, topicName(telemetryEnrichedV1, prefix), (m) => withNew.push(JSON.parse(m.value!.toString('utf8')) as TelemetryEnrichedV1));
    expect(withNew).toHaveLength(total + 1);
    expect(withNew.find((s) => s.sourceId === 'plc-2')?.context.workOrder).toEqual({ id: 'WO-2', type: 'PM02', status: 'released' });
  });
});
