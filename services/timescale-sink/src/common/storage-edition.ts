import { Injectable } from '@nestjs/common';
import type { TimescaleLicense } from '@weir/timescale';

/**
 * Which TimescaleDB edition the database is, as it reported at start-up. On
 * the Apache licence the sink maintains rollups and retention itself; on the
 * Timescale licence continuous aggregates and policies do it.
 */
@Injectable()
export class StorageEdition {
  private current: TimescaleLicense | null = null;

  /** Records what the database reported (set once at start-up, before any write). */
  set(license: TimescaleLicense): void {
    this.current = license;
  }

  /** The licence; null before start-up detected it. */
  get license(): TimescaleLicense | null {
    return this.current;
  }

  /** True when the sink itself keeps telemetry_1m/1h and drops expired chunks (Apache licence). */
  get sinkMaintained(): boolean {
    return this.current === 'apache';
  }
}
