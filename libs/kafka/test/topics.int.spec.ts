import { dlqTopicName, erpAssetsV1, erpShiftsV1, telemetryRawV1, topicName } from '@weir/contracts';
import { uniqueTopicPrefix } from '@weir/testing';
import { ConfigResourceTypes, type Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTopics } from '@weir/kafka';
import { testClient } from './helpers';

let admin: Admin;

beforeAll(async () => {
  ({ admin } = await testClient('topics'));
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
