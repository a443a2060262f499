import { erpWorkOrdersV1, telemetryEnrichedV1, telemetryRawV1, topicName, type TelemetryEnrichedV1, type TelemetryRawV1 } from '@weir/contracts';
import { uniqueTopicPrefix, waitFor } from '@weir/testing';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { EnricherApplication } from '../src/enricher.application';
import { createTopics, publishScenarioContext, rawTopic, readToEnd, startEnricher, testKafka, testSettings, waitForInputConsumed } from './helpers';

const apps: EnricherApplication[] = [];
afterAll(async () => {
  for (const a of apps) await a.stop();
});

const sample = (seq: number, nodeId: string, sourceTime: string): TelemetryRawV1 => ({ sourceId: 'late-1', nodeId, seq, origin: 'historian', value: seq, status: 0, sourceTime });
const FILLER = 'ns=2;s=Line1.Filler1.Speed';
const CAPPER = 'ns=2;s=Line1.Capper1.Torque';

describe('late data and late context', () => {
  it('joins late data with the context valid at its source time; context that arrives after a sample applies from then on and never rewrites that sample', async () => {
    const brokers = inject('kafkaBrokers');
    const prefix = uniqueTopicPrefix('enr-late');
    const { kafka, producer } = testKafka(brokers, prefix);
    await createTopics(kafka, brokers, prefix);
    await publishScenarioContext(producer);
    const settings = testSettings(brokers, prefix);
    const app = await startEnricher(settings);
    apps.push(app);
    const consumed = (): Promise<void> => waitForInputConsumed(kafka, settings.enricher.groupId, rawTopic(prefix), 60_000);

    // Late data: after a 15:00 sample, samples from 09:30 and 10:30 arrive (a historian backfill).
    await producer.sendMany(telemetryRawV1, [sample(0, CAPPER, '2024-06-01T15:00:00.000Z')]);
    await consumed();
    await producer.sendMany(telemetryRawV1, [sample(1, FILLER, '2024-06-01T09:30:00.000Z'), sample(2, FILLER, '2024-06-01T10:30:00.000Z')]);
    await consumed();

    // Late context: a sample at 08:00 on 3 June, then a work order open since 07:00 that day, then a second sample at the same time.
    await producer.sendMany(telemetryRawV1, [sample(3, FILLER, '2024-06-03T08:00:00.000Z')]);
    await consumed();
    await producer.send(erpWorkOrdersV1, { id: 'WO-9', assetId: 'filler1', type: 'PM02', status: 'in-progress', validFrom: '2024-06-03T07:00:00.000Z', validTo: null, changedAt: '2024-06-03T09:00:00.000Z', attributes: {} });
    await waitFor(() => (app.store.sizes().workOrder === 2 ? true : undefined), { timeoutMs: 30_000, what: 'WO-9 applied' });
    await producer.sendMany(telemetryRawV1, [sample(4, FILLER, '2024-06-03T08:00:00.000Z')]);
    await producer.close();
    await consumed();

    const out: TelemetryEnrichedV1[] = [];
    await readToEnd(kafka, topicName(telemetryEnrichedV1, prefix), (m) => out.push(JSON.parse(m.value!.toString('utf8')) as TelemetryEnrichedV1));
    const bySeq = (seq: number): TelemetryEnrichedV1[] => out.filter((s) => s.seq === seq);
    expect(out).toHaveLength(5);
    for (let seq = 0; seq < 5; seq++) expect(bySeq(seq)).toHaveLength(1);

    expect(bySeq(0)[0]!.context).toMatchObject({ productionOrder: { id: 'PO-B' }, shift: { id: 'hh-late' }, workOrder: null });
    // Processed after PO-B and the late shift were current, yet joined with what held at 09:30 and 10:30.
    expect(bySeq(1)[0]!.context).toMatchObject({ productionOrder: { id: 'PO-A' }, shift: { id: 'hh-early' }, workOrder: null });
    expect(bySeq(2)[0]!.context).toMatchObject({ productionOrder: { id: 'PO-A' }, shift: { id: 'hh-early' }, workOrder: { id: 'WO-1' } });
    // The rule for late context: a sample keeps the context known when it was enriched (written once, never retracted) ...
    expect(bySeq(3)[0]!.context.workOrder).toBeNull();
    expect(bySeq(3)[0]!.context.productionOrder).toEqual({ id: 'PO-B', material: 'MAT-B' });
    // ... and every sample enriched after the context arrived gets it, whatever its source time.
    expect(bySeq(4)[0]!.context.workOrder).toEqual({ id: 'WO-9', type: 'PM02', status: 'in-progress' });
  });
});
