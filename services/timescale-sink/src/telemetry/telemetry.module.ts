import { Module } from '@nestjs/common';
import { CompletenessModule } from '../completeness/completeness.module';
import { RollupsModule } from '../rollups/rollups.module';
import { StateModule } from '../state/state.module';
import { SeriesRepository } from './series.repository';
import { TelemetryConsumer } from './telemetry.consumer';
import { TelemetryRepository } from './telemetry.repository';
import { TelemetryService } from './telemetry.service';

/** Enriched telemetry into telemetry / telemetry_other, with the series dictionary. */
@Module({
  imports: [StateModule, RollupsModule, CompletenessModule],
  providers: [SeriesRepository, TelemetryRepository, TelemetryService, TelemetryConsumer],
  exports: [SeriesRepository, TelemetryService, TelemetryConsumer],
})
export class TelemetryModule {}
