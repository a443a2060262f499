import { fields } from '@weir/config';
import { AssetMappingError, compileAssetMapping, type AssetMappingRule } from '@weir/domain';
import { kafkaSettingsSchema } from '@weir/kafka';
import { observabilitySettingsSchema } from '@weir/observability';
import { z } from 'zod';

// Environment variables carry strings; rules are structured, so the environment gives them as JSON.
const jsonFromString = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => {
    if (typeof v !== 'string') return v;
    try {
      return JSON.parse(v) as unknown;
    } catch {
      return v;
    }
  }, schema);

/** One series-to-asset rule, as `compileAssetMapping` in @weir/domain takes it. */
export const assetMappingRuleSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('explicit'),
    name: z.string().optional(),
    sourceId: z.string().optional(),
    nodeId: z.string().min(1),
    assetId: z.string().min(1),
    assetPath: z.string().optional(),
  }),
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

/** Settings of the enricher itself (under `enricher`, `WEIR_ENRICHER__*`). */
export const enricherSectionSchema = z.object({
  /** Consumer group of the telemetry input; instances with the same group share the partitions. */
  groupId: z.string().min(1).max(200).default('enricher'),
  /**
   * Stable id of this instance (replica ordinal, pod name); the transactional id is `<groupId>-<instanceId>`.
   * A restarted instance must keep its id so it fences its predecessor; two live instances must differ.
   */
  instanceId: z.string().min(1).max(200).regex(/^[A-Za-z0-9._-]+$/).default('0'),
  /** Series-to-asset rules, first match wins (JSON array from the environment). Compiled here, so a bad rule is a settings error. */
  mapping: jsonFromString(z.array(assetMappingRuleSchema))
    .default([])
    .superRefine((rules, ctx) => {
      try {
        compileAssetMapping(rules as AssetMappingRule[]);
      } catch (err) {
        if (!(err instanceof AssetMappingError)) throw err;
        for (const problem of err.problems) ctx.addIssue({ code: 'custom', message: problem });
      }
    }),
  /**
   * Picks the measurement name of a series (the key of the asset's `limits`) from its node id:
   * the first capture group, compared case-insensitively. Default: the text after the last `.`, `/`, `=` or `;`.
   */
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
  /** Longest wait for the ERP context to load at start-up before the process fails, in ms. */
  contextLoadTimeoutMs: fields.durationMs().default(120_000),
  /** Most bytes fetched per input partition at once; one fetch is one transaction. */
  maxBytesPerPartition: fields.int({ min: 65_536, max: 64 * 1024 * 1024 }).default(1024 * 1024),
  /**
   * Input partitions whose batches are enriched at the same time: the next batch is enriched while
   * the previous one's transaction commits (transactions still commit one at a time, each batch in its own).
   */
  partitionsConcurrently: fields.int({ min: 1, max: 64 }).default(2),
  /** The broker drops an instance it has not heard from for this long (ms); a killed instance's partitions move after it. */
  sessionTimeoutMs: fields.durationMs().default(30_000),
  /** Heartbeat interval, ms; well below `sessionTimeoutMs`. */
  heartbeatIntervalMs: fields.durationMs().default(3_000),
  /** Create missing topics (and their DLQs) at start-up. */
  provisionTopics: fields.bool().default(true),
});
/** The enricher section after validation. */
export type EnricherSection = z.infer<typeof enricherSectionSchema>;

/** Every setting of the enricher, loaded once in main with `loadConfig(enricherSettingsSchema, { env: process.env })`. */
export const enricherSettingsSchema = z.object({
  kafka: kafkaSettingsSchema,
  observability: observabilitySettingsSchema.default({ logLevel: 'info', opsHost: '127.0.0.1', opsPort: 9464 }),
  enricher: enricherSectionSchema.default(enricherSectionSchema.parse({})),
});
/** The enricher's settings after validation. */
export type EnricherSettings = z.infer<typeof enricherSettingsSchema>;
