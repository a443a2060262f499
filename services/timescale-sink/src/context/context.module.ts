import { Module } from '@nestjs/common';
import { ContextConsumer } from './context.consumer';
import { ContextRepository } from './context.repository';

/** ERP context tables. */
@Module({ providers: [ContextRepository, ContextConsumer], exports: [ContextRepository, ContextConsumer] })
export class ContextModule {}
