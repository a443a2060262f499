import { erpAssetsV1, telemetryRawV1 } from '@weir/contracts';
import { describe, expect, it } from 'vitest';
import { planTopics, provisioningOptions } from './topics';

describe('planTopics', () => {
  it('plans each topic with its DLQ; DLQs are never compacted', () => {
    expect(planTopics([telemetryRawV1, erpAssetsV1], { prefix: 'p1.' })).toEqual([
      { topic: 'p1.ot.telemetry.raw.v1', numPartitions: 6, cleanupPolicy: 'delete' },
      { topic: 'p1.ot.telemetry.raw.v1.dlq', numPartitions: 6, cleanupPolicy: 'delete', dlqOf: 'p1.ot.telemetry.raw.v1' },
      { topic: 'p1.erp.assets.v1', numPartitions: 3, cleanupPolicy: 'compact' },
      { topic: 'p1.erp.assets.v1.dlq', numPartitions: 3, cleanupPolicy: 'delete', dlqOf: 'p1.erp.assets.v1' },
    ]);
  });

  it('applies a partition override and can leave out DLQs', () => {
    expect(planTopics([telemetryRawV1], { partitions: 2, withDlq: false })).toEqual([{ topic: 'ot.telemetry.raw.v1', numPartitions: 2, cleanupPolicy: 'delete' }]);
  });

  it('lists a topic given twice once', () => {
    expect(planTopics([telemetryRawV1, telemetryRawV1]).map((p) => p.topic)).toEqual(['ot.telemetry.raw.v1', 'ot.telemetry.raw.v1.dlq']);
  });
});

describe('provisioningOptions', () => {
  it('takes prefix, partitions and replication factor from the settings', () => {
    expect(provisioningOptions({ topicPrefix: 'x.', partitions: 4, replicationFactor: undefined })).toEqual({ prefix: 'x.', partitions: 4 });
  });
});
