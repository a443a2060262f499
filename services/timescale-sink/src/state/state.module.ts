import { Module } from '@nestjs/common';
import { StateRepository } from './state.repository';

/** Machine state intervals derived from state tags. */
@Module({ providers: [StateRepository], exports: [StateRepository] })
export class StateModule {}
