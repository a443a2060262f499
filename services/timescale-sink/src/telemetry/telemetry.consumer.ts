import { Inject, Injectable } from '@nestjs/common';
import { telemetryEnrichedV1 } from '@weir/contracts';
import type { BatchConsumer } from '@weir/kafka';
import type { SinkSettings } from '../config';
import { FeedConsumerFactory } from '../common/feed-consumer.factory';
import { SINK_SETTINGS } from '../common/tokens';
import { TelemetryService } from './telemetry.service';

/** Consumes ot.telemetry.enriched.v1 into telemetry / telemetry_other (feed `telemetry`). */
@Injectable()
export class TelemetryConsumer {
  constructor(
    @Inject(FeedConsumerFactory) private readonly factory: FeedConsumerFactory,
    @Inject(TelemetryService) private readonly service: TelemetryService,
    @Inject(SINK_SETTINGS) private readonly settings: SinkSettings,
  ) {}

  /** The consumers of this feed (one). */
  create(): BatchConsumer<typeof telemetryEnrichedV1>[] {
    return [
      this.factory.create(
        'telemetry',
        telemetryEnrichedV1,
        async (messages) => {
          const w = await this.service.write(messages.map((m) => m.value!));
          return {
            telemetry: { offered: w.telemetry.offered, inserted: w.telemetry.inserted },
            telemetry_other: { offered: w.telemetry_other.offered, inserted: w.telemetry_other.inserted },
          };
        },
        { partitionsConcurrently: this.settings.sink.partitionsConcurrently },
      ),
    ];
  }
}
