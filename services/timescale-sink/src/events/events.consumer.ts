import { Inject, Injectable } from '@nestjs/common';
import { itSecurityEventsV1, otEventsV1, securityAlertsV1 } from '@weir/contracts';
import type { BatchConsumer } from '@weir/kafka';
import { FeedConsumerFactory } from '../common/feed-consumer.factory';
import { SinkMetrics } from '../common/sink-metrics';
import { EventsRepository } from './events.repository';

/** Consumes ot.events.v1 (feed `ot-events`), it.security-events.v1 (`security-events`) and sec.alerts.v1 (`alerts`). */
@Injectable()
export class EventsConsumer {
  constructor(
    @Inject(FeedConsumerFactory) private readonly factory: FeedConsumerFactory,
    @Inject(EventsRepository) private readonly events: EventsRepository,
    @Inject(SinkMetrics) private readonly metrics: SinkMetrics,
  ) {}

  /** The consumer of ot.events.v1; gap events are also recorded in data_gaps. */
  otEvents(): BatchConsumer<typeof otEventsV1> {
    return this.factory.create('ot-events', otEventsV1, async (messages) => {
      const w = await this.events.writeOtEvents(messages.map((m) => m.value!));
      this.metrics.gaps.inc({ detected_by: 'connector' }, w.gaps);
      return { ot_events: w };
    });
  }

  /** The consumer of it.security-events.v1. */
  securityEvents(): BatchConsumer<typeof itSecurityEventsV1> {
    return this.factory.create('security-events', itSecurityEventsV1, async (messages) => ({ security_events: await this.events.writeSecurityEvents(messages.map((m) => m.value!)) }));
  }

  /** The consumer of sec.alerts.v1. */
  alerts(): BatchConsumer<typeof securityAlertsV1> {
    return this.factory.create('alerts', securityAlertsV1, async (messages) => ({ alerts: await this.events.writeAlerts(messages.map((m) => m.value!)) }));
  }
}
