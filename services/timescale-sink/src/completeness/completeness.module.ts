import { Module } from '@nestjs/common';
import { CompletenessRepository } from './completeness.repository';
import { SequenceGapDetector } from './sequence-gap.detector';

/** Data gaps: reported by connectors and found in sequence numbers. */
@Module({ providers: [CompletenessRepository, SequenceGapDetector], exports: [CompletenessRepository, SequenceGapDetector] })
export class CompletenessModule {}
