import { erpAssetsV1, erpProductionOrdersV1, erpShiftsV1, erpWorkOrdersV1, formatIssues, type TopicDefinition } from '@weir/contracts';
import type { BatchingProducer, Delivery } from '@weir/kafka';
import type { EntityKind } from './change-set';
import type { OutMessage } from './planner';

/** The compacted topic of each entity kind. */
export const TOPIC_OF: Readonly<Record<EntityKind, TopicDefinition>> = {
  assets: erpAssetsV1,
  workOrders: erpWorkOrdersV1,
  productionOrders: erpProductionOrdersV1,
  shifts: erpShiftsV1,
};

/** Checks a message against its topic's schema; the problems, or undefined when it is valid. */
export function validateMessage(kind: EntityKind, value: unknown): string | undefined {
  const parsed = TOPIC_OF[kind].schema.safeParse(value);
  return parsed.success ? undefined : formatIssues(parsed.error);
}

/** Sends messages to Kafka and resolves once all are acknowledged. */
export interface Publisher {
  publish(messages: readonly OutMessage[]): Promise<void>;
}

/**
 * Publishes through the shared idempotent producer, keyed by entity id, in the
 * given order (one batch in flight at a time keeps per-key order); a null
 * value is a tombstone. Rejects if any message was not acknowledged.
 */
export class KafkaPublisher implements Publisher {
  constructor(private readonly producer: BatchingProducer) {}

  async publish(messages: readonly OutMessage[]): Promise<void> {
    const deliveries: Promise<void>[] = [];
    for (const m of messages) {
      const topic = TOPIC_OF[m.kind];
      const delivery: Delivery =
        m.value === null ? await this.producer.enqueueRaw(this.producer.topicName(topic), { key: m.id, value: null }) : await this.producer.enqueue(topic, m.value);
      deliveries.push(delivery.delivered);
    }
    await Promise.all(deliveries);
  }
}
