import { Inject, Injectable } from '@nestjs/common';
import type { ConsumedMessage } from '@weir/kafka';
import { FeedConsumerFactory, type SinkConsumer } from '../common/feed-consumer.factory';
import { ASSETS, PRODUCTION_ORDERS, SHIFTS, WORK_ORDERS, type ContextChange, type ContextTable } from './context-rows';
import { ContextRepository } from './context.repository';

/** Consumes the compacted ERP topics (feed `erp`) into assets, work_orders, production_orders and shifts. */
@Injectable()
export class ContextConsumer {
  constructor(
    @Inject(FeedConsumerFactory) private readonly factory: FeedConsumerFactory,
    @Inject(ContextRepository) private readonly context: ContextRepository,
  ) {}

  /** One consumer per ERP topic. */
  create(): SinkConsumer[] {
    return [this.consumer(ASSETS), this.consumer(WORK_ORDERS), this.consumer(PRODUCTION_ORDERS), this.consumer(SHIFTS)];
  }

  private consumer<T extends { id: string; validFrom: string; changedAt: string }>(table: ContextTable<T>): SinkConsumer {
    return this.factory.create('erp', table.topic, async (messages: ConsumedMessage<unknown>[]) => {
      const changes: ContextChange<T>[] = [];
      for (const m of messages) {
        // A tombstone's key is the record id (the topics are keyed by id).
        if (m.value === null) {
          if (m.key !== null) changes.push({ kind: 'delete', id: m.key, atMs: m.timestamp });
        } else changes.push({ kind: 'upsert', message: m.value as T });
      }
      const w = await this.context.apply(table, changes);
      return { [table.table]: { offered: messages.length, inserted: w.upserted + w.closed } };
    });
  }
}
