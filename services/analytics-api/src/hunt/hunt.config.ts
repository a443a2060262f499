import { fields } from '@weir/config';
import { assetMappingRulesSchema } from '@weir/domain';
import { z } from 'zod';

/**
 * Settings of retro-hunts and the inventory (under `hunt`, `WEIR_HUNT__*`). The engine settings and the asset
 * mapping must be the correlator's, so a hunt over stored events raises what the live correlator raised.
 */
export const huntSectionSchema = z.object({
  /** OT source/node to asset rules, first match wins (JSON array): the correlator's `correlator.assetMapping`. */
  assetMapping: fields.json(assetMappingRulesSchema).default([]),
  /** The measurement name of a node (key of the asset's `limits`), first capture group: the enricher's `measurementPattern`. */
  measurementPattern: fields.regex().default('([^./=;]+)$'),
  /** Longest from..to of one hunt, ms. */
  maxRangeMs: fields.durationMs().default(31 * 86_400_000),
  /** Most stored events one hunt reads; beyond it the hunt stops and says where (`complete: false`). */
  maxEvents: fields.int({ min: 1000, max: 100_000_000 }).default(5_000_000),
  /** Most findings one hunt returns. */
  maxFindings: fields.int({ min: 10, max: 100_000 }).default(10_000),
  /** Rows read per query (memory per input is bounded by this). */
  pageSize: fields.int({ min: 100, max: 100_000 }).default(5000),
  /** As the correlator's `allowedLatenessMs`. */
  allowedLatenessMs: fields.durationMs().default(300_000),
  /** As the correlator's `idleInputMs`. */
  idleInputMs: fields.durationMs().default(86_400_000),
  /** As the correlator's `incidentWindowMs`. */
  incidentWindowMs: fields.durationMs().default(3_600_000),
  /** As the correlator's `minUpdateIntervalMs`. */
  minUpdateIntervalMs: fields.durationMs().default(60_000),
  /** Hunt jobs running at once in this instance; more are refused with 429 until one ends. */
  maxRunningJobs: fields.int({ min: 1, max: 64 }).default(2),
  /** Hunt jobs (running and finished) kept in this instance; the oldest finished go first. */
  maxJobs: fields.int({ min: 1, max: 10_000 }).default(100),
  /** How long a finished hunt job's result is kept, ms. */
  jobRetentionMs: fields.durationMs().default(3_600_000),
  /** Inventory: a registered asset without telemetry or OT events for this long is reported silent, ms. */
  silentAfterMs: fields.durationMs().default(86_400_000),
});
/** The hunt section after validation. */
export type HuntSection = z.infer<typeof huntSectionSchema>;
