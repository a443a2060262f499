import { Module } from '@nestjs/common';
import { RollupMaintainer } from './rollup.maintainer';
import { RollupRepository } from './rollup.repository';

/** telemetry_1m / telemetry_1h maintenance on the Apache licence. */
@Module({ providers: [RollupRepository, RollupMaintainer], exports: [RollupRepository, RollupMaintainer] })
export class RollupsModule {}
