import { fields } from '@weir/config';
import { AssetMappingError, compileAssetMapping, type AssetMappingRule } from '@weir/domain';
import { z } from 'zod';

// Environment variables carry strings; structured settings come from the environment as JSON.
const jsonFromString = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => {
    if (typeof v !== 'string') return v;
    try {
      return JSON.parse(v) as unknown;
    } catch {
      return v;
    }
  }, schema);

/** One source/node-to-asset rule, as `compileAssetMapping` in @weir/domain takes it (the correlator's `assetMapping`). */
const assetMappingRuleSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('explicit'), name: z.string().optional(), sourceId: z.string().optional(), nodeId: z.string().min(1), assetId: z.string().min(1), assetPath: z.string().optional() }),
  z.object({
    kind: z.literal('pattern'),
    name: z.string().optional(),
    sourceId: z.string().optional(),
    target: z.enum(['nodeId', 'browsePath']),
    glob: z.string().optional(),
    regex: z.string().optional(),
    flags: z.string().optional(),
    assetId: z.string().min(1),
    assetPath: z.string().optional(),
  }),
]);

/**
 * Settings of retro-hunts and the inventory (under `hunt`, `WEIR_HUNT__*`). The engine settings and the asset
 * mapping must be the correlator's, so a hunt over stored events raises what the live correlator raised.
 */
export const huntSectionSchema = z.object({
  /** OT source/node to asset rules, first match wins (JSON array): the correlator's `correlator.assetMapping`. */
  assetMapping: jsonFromString(z.array(assetMappingRuleSchema))
    .default([])
    .superRefine((rules, ctx) => {
      try {
        compileAssetMapping(rules as AssetMappingRule[]);
      } catch (err) {
        if (!(err instanceof AssetMappingError)) throw err;
        for (const problem of err.problems) ctx.addIssue({ code: 'custom', message: problem });
      }
    }),
  /** The measurement name of a node (key of the asset's `limits`), first capture group: the enricher's `measurementPattern`. */
  measurementPattern: z
    .string()
    .refine((v) => {
      try {
        new RegExp(v);
        return true;
      } catch {
        return false;
      }
    }, 'must be a valid regular expression')
    .default('([^./=;]+)$'),
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
