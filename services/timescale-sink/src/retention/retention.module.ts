import { Module } from '@nestjs/common';
import { RetentionService } from './retention.service';

/** Retention and chunk settings, and retention enforcement on the Apache licence. */
@Module({ providers: [RetentionService], exports: [RetentionService] })
export class RetentionModule {}
