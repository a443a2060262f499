import { telemetryEnrichedV1, topicName, type TelemetryEnrichedV1 } from '@weir/contracts';
import { killServiceProcesses, removeTempDirs, uniqueTopicPrefix, waitFor } from '@weir/testing';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { EnricherApplication } from '../src/enricher.application';
import { EnricherProcess } from './enricher-process';
import { checkBulkOutput, createTopics, produceBulk, publishScenarioContext, rawTopic, readToEnd, startEnricher, testGroupId, testKafka, testSettings, waitForInputConsumed } from './helpers';

const N = 60_000;
const apps: EnricherApplication[] = [];

afterAll(async () => {
  await killServiceProcesses();
  for (const a of apps) await a.stop();
  removeTempDirs();
});

/** Every output message as `sourceId/seq -> JSON`, keys sorted, for comparing two runs. */
async function outputSet(kafka: Parameters<typeof readToEnd>[0], prefix: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  await readToEnd(kafka, topicName(telemetryEnrichedV1, prefix), (m) => {
    const s = JSON.parse(m.value!.toString('utf8')) as TelemetryEnrichedV1;
    out.set(`${s.sourceId}/${s.seq}`, m.value!.toString('utf8'));
  });
  return out;
}

describe('enricher scale-out and process life cycle', () => {
  it('two instances (different ids, one group) share the partitions and write the same output as one instance; each serves /health and /metrics and stops cleanly on SIGTERM', { timeout: 600_000 }, async () => {
    const brokers = inject('kafkaBrokers');
    const onePrefix = uniqueTopicPrefix('enr-one');
    const twoPrefix = uniqueTopicPrefix('enr-two');
    const one = testKafka(brokers, onePrefix);
    const two = testKafka(brokers, twoPrefix);
    await createTopics(one.kafka, brokers, onePrefix);
    await createTopics(two.kafka, brokers, twoPrefix);
    await publishScenarioContext(one.producer);
    await publishScenarioContext(two.producer);

    const a = await EnricherProcess.start({ brokers, prefix: twoPrefix, instanceId: 'a' });
    const b = await EnricherProcess.start({ brokers, prefix: twoPrefix, instanceId: 'b' });
    await Promise.all([a.ready(), b.ready()]);
    // Both in the group with a share each before any input arrives, so no rebalance interrupts the run.
    await waitFor(
      async () => {
        const [pa, pb] = await Promise.all([a.assignedPartitions(), b.assignedPartitions()]);
        return pa >= 1 && pb >= 1 && pa + pb === 3 ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 200, what: 'the three partitions split between both instances' },
    );

    const single = await startEnricher(testSettings(brokers, onePrefix));
    apps.push(single);
    await Promise.all([produceBulk(one.producer, N), produceBulk(two.producer, N)]);
    await Promise.all([one.producer.close(), two.producer.close()]);
    await waitForInputConsumed(one.kafka, testGroupId(onePrefix), rawTopic(onePrefix), 300_000);
    await waitForInputConsumed(two.kafka, testGroupId(twoPrefix), rawTopic(twoPrefix), 300_000);

    // Each instance did part of the work; together exactly the input.
    const outA = await a.metric('weir_kafka_transaction_output_messages_total');
    const outB = await b.metric('weir_kafka_transaction_output_messages_total');
    expect(outA).toBeGreaterThan(0);
    expect(outB).toBeGreaterThan(0);
    expect(outA + outB).toBe(N);

    const [setOne, setTwo] = [await outputSet(one.kafka, onePrefix), await outputSet(two.kafka, twoPrefix)];
    expect(setOne.size).toBe(N);
    expect(setTwo.size).toBe(N);
    let differ = 0;
    for (const [k, v] of setOne) if (setTwo.get(k) !== v) differ++;
    expect(differ).toBe(0);
    // And both are right, sample by sample (also: nothing twice).
    expect(await checkBulkOutput(two.kafka, topicName(telemetryEnrichedV1, twoPrefix), N)).toMatchObject({ read: N, distinct: N, duplicates: 0, missing: 0, wrong: 0 });

    // The process's ops endpoints.
    const live = await a.get('/health/live');
    expect(live.status).toBe(200);
    const ready = JSON.parse((await a.get('/health/ready')).body) as { status: string; checks: Record<string, { ok: boolean; detail?: string }> };
    expect(ready.status).toBe('ok');
    expect(ready.checks['context']).toMatchObject({ ok: true });
    expect(ready.checks['telemetry']?.detail).toMatch(/partition\(s\) of .*ot\.telemetry\.raw\.v1 assigned/);
    const metrics = (await a.get('/metrics')).body;
    expect(metrics).toMatch(/^weir_enricher_samples_total\{outcome="enriched",service="enricher"\} \d+$/m);
    expect(metrics).toMatch(/^weir_enricher_samples_total\{outcome="unknown-series",service="enricher"\} \d+$/m);
    expect(metrics).toMatch(/^weir_enricher_context_versions_total\{kind="asset",service="enricher"\} 5$/m);
    expect(metrics).toMatch(/^weir_kafka_transactions_total\{topic="[^"]+ot\.telemetry\.raw\.v1",group="enricher\.enr-two-[0-9a-f]+",outcome="committed",service="enricher"\} [1-9]\d*$/m);
    // Like every service's: the service label on everything, and the process metrics.
    expect(metrics).toMatch(/^weir_process_cpu_seconds_total\{service="enricher"\} /m);
    expect((await a.get('/nothing')).status).toBe(404);

    const [exitA, exitB] = await Promise.all([a.stop('SIGTERM'), b.stop('SIGTERM')]);
    expect(exitA, a.output.slice(-2000)).toEqual({ code: 0, signal: null });
    expect(exitB, b.output.slice(-2000)).toEqual({ code: 0, signal: null });
    expect(a.output).toContain('consumer stopped');
    expect(a.output).toMatch(/"step":"enricher".*"msg":"stopped"/);
  });

  it('refuses bad settings with exit code 2 and names every bad key', async () => {
    const p = await EnricherProcess.start({
      brokers: inject('kafkaBrokers'),
      prefix: uniqueTopicPrefix('enr-bad'),
      instanceId: 'a',
      env: { WEIR_ENRICHER__INSTANCE_ID: 'not an id', WEIR_ENRICHER__MEASUREMENT_PATTERN: '([a-z', WEIR_ENRICHER__MAX_BYTES_PER_PARTITION: '12' },
    });
    const exit = await p.exited;
    expect(exit).toEqual({ code: 2, signal: null });
    expect(p.output).toContain('enricher.instanceId (from env WEIR_ENRICHER__INSTANCE_ID)');
    expect(p.output).toContain('enricher.measurementPattern (from env WEIR_ENRICHER__MEASUREMENT_PATTERN)');
    expect(p.output).toContain('must be a valid regular expression');
    expect(p.output).toContain('enricher.maxBytesPerPartition (from env WEIR_ENRICHER__MAX_BYTES_PER_PARTITION)');
  });
});
