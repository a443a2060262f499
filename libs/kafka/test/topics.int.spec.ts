import { dlqTopicName, erpAssetsV1, erpShiftsV1, telemetryRawV1, topicName } from '@weir/contracts';
import { uniqueTopicPrefix } from '@weir/testing';
import { ConfigResourceTypes, type Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaClient, ensureTopics, kafkaSettingsSchema, provisionInBackground } from '@weir/kafka';
import type { Logger } from '@weir/observability';
import { freePort, waitFor } from '@weir/testing';
import type { Kafka } from 'kafkajs';
import { testClient } from './helpers';

let admin: Admin;
let kafka: Kafka;
let logger: Logger;

beforeAll(async () => {
  ({ admin, kafka, logger } = await testClient('topics'));
});
afterAll(async () => {
  await admin.disconnect();
});

async function cleanupPolicies(names: string[]): Promise<Record<string, string | undefined>> {
  const r = await admin.describeConfigs({ includeSynonyms: false, resources: names.map((name) => ({ type: ConfigResourceTypes.TOPIC, name, configNames: ['cleanup.policy'] })) });
  return Object.fromEntries(r.resources.map((x) => [x.resourceName, x.configEntries[0]?.configValue]));
}

describe('ensureTopics', () => {
  it('creates topics with DLQ companions and compaction, and is idempotent', async () => {
    const prefix = uniqueTopicPrefix('kafka-topics');
    const raw = topicName(telemetryRawV1, prefix);
    const assets = topicName(erpAssetsV1, prefix);
    const expected = [raw, dlqTopicName(telemetryRawV1, prefix), assets, dlqTopicName(erpAssetsV1, prefix)];

    const first = await ensureTopics(admin, [telemetryRawV1, erpAssetsV1], { prefix, partitions: 2 });
    expect(first).toEqual({ created: expected, existing: [], mismatched: [] });

    const second = await ensureTopics(admin, [telemetryRawV1, erpAssetsV1], { prefix, partitions: 2 });
    expect(second).toEqual({ created: [], existing: expected, mismatched: [] });

    expect(await cleanupPolicies(expected)).toEqual({
      [raw]: 'delete',
      [`${raw}.dlq`]: 'delete',
      [assets]: 'compact',
      [`${assets}.dlq`]: 'delete',
    });
    const meta = await admin.fetchTopicMetadata({ topics: expected });
    expect(meta.topics.map((t) => [t.name, t.partitions.length]).sort()).toEqual(expected.map((n) => [n, 2]).sort());
  });

  it('uses each definition\'s default partitions when none are configured', async () => {
    const prefix = uniqueTopicPrefix('kafka-topics-def');
    await ensureTopics(admin, [erpShiftsV1], { prefix, withDlq: false });
    const meta = await admin.fetchTopicMetadata({ topics: [topicName(erpShiftsV1, prefix)] });
    expect(meta.topics[0]!.partitions).toHaveLength(erpShiftsV1.defaultPartitions);
  });

  it('leaves an existing topic with another cleanup policy alone and reports it', async () => {
    const prefix = uniqueTopicPrefix('kafka-topics-mm');
    const shifts = topicName(erpShiftsV1, prefix);
    await admin.createTopics({ topics: [{ topic: shifts, numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'delete' }] }] });
    const result = await ensureTopics(admin, [erpShiftsV1], { prefix });
    expect(result.created).toEqual([`${shifts}.dlq`]);
    expect(result.existing).toEqual([shifts]);
    expect(result.mismatched).toEqual([{ topic: shifts, problem: 'cleanup.policy is delete, the definition says compact' }]);
    expect((await cleanupPolicies([shifts]))[shifts]).toBe('delete');
  });
});

describe('provisionInBackground', () => {
  it('creates the topics in the background and then reports ready', async () => {
    const prefix = uniqueTopicPrefix('kafka-bg');
    const provisioning = provisionInBackground(kafka, [telemetryRawV1], { prefix, partitions: 1, logger });
    await waitFor(() => (provisioning.provisioned ? true : undefined), { timeoutMs: 30_000, what: 'the topics' });
    expect(await provisioning.healthCheck().check()).toEqual({ ok: true, detail: 'topics exist' });
    const names = await admin.listTopics();
    expect(names).toEqual(expect.arrayContaining([topicName(telemetryRawV1, prefix), dlqTopicName(telemetryRawV1, prefix)]));
    await provisioning.stop();
  });

  it('keeps trying while Kafka is unreachable, is not ready, and stops during a wait between attempts', async () => {
    // Nothing listens on the port: every attempt fails; the wait after the first is ten minutes.
    const nowhere = createKafkaClient(kafkaSettingsSchema.parse({ brokers: [`127.0.0.1:${await freePort()}`], clientId: 'kafka-int-nowhere', connectionTimeoutMs: 500 }), logger);
    const warnings: string[] = [];
    const spy = Object.assign(Object.create(logger) as Logger, { warn: (obj: unknown, msg?: string) => void warnings.push(String(msg ?? obj)) });
    const provisioning = provisionInBackground(nowhere, [telemetryRawV1], { prefix: uniqueTopicPrefix('kafka-nowhere'), logger: spy, meanwhile: 'the spool keeps the data meanwhile', retry: { initialMs: 600_000, jitter: 0 } });
    await waitFor(() => (warnings.length > 0 ? true : undefined), { timeoutMs: 30_000, what: 'a failed attempt' });
    expect(warnings[0]).toBe('cannot provision the topics yet; the spool keeps the data meanwhile');
    expect(provisioning.provisioned).toBe(false);
    expect((await provisioning.healthCheck().check()).ok).toBe(false);
    // Ends the ten-minute wait: the test's own timeout would fail otherwise.
    await provisioning.stop();
    expect(provisioning.provisioned).toBe(false);
  });
});
