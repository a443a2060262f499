import { Module } from '@nestjs/common';
import { CompletenessModule } from '../completeness/completeness.module';
import { EventsConsumer } from './events.consumer';
import { EventsRepository } from './events.repository';

/** OT events, IT security events and alerts. */
@Module({ imports: [CompletenessModule], providers: [EventsRepository, EventsConsumer], exports: [EventsRepository, EventsConsumer] })
export class EventsModule {}
