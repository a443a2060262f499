import { fields } from '@weir/config';
import { assetMappingRulesSchema } from '@weir/domain';
import { kafkaSettingsSchema } from '@weir/kafka';
import { observabilitySettingsSchema } from '@weir/observability';
import { z } from 'zod';

/** Settings of the enricher itself (under `enricher`, `WEIR_ENRICHER__*`). */
export const enricherSectionSchema = z.object({
  /** Consumer group of the telemetry input; instances with the same group share the partitions. */
  groupId: z.string().min(1).max(200).default('enricher'),
  /**
   * Name of this instance (replica ordinal, pod name) in its context consumer's group id. Exactly-once does not
   * depend on it: transactional ids are per input partition (`<groupId>.<input topic>.<partition>`).
   */
  instanceId: z.string().min(1).max(200).regex(/^[A-Za-z0-9._-]+$/).default('0'),
  /** Series-to-asset rules, first match wins (JSON array from the environment). Compiled here, so a bad rule is a settings error. */
  mapping: fields.json(assetMappingRulesSchema).default([]),
  /**
   * Picks the measurement name of a series (the key of the asset's `limits`) from its node id:
   * the first capture group, compared case-insensitively. Default: the text after the last `.`, `/`, `=` or `;`.
   */
  measurementPattern: fields.regex().default('([^./=;]+)$'),
  /** Longest wait for the ERP context to load at start-up before the process fails, in ms. */
  contextLoadTimeoutMs: fields.durationMs().default(120_000),
  /**
   * Most bytes fetched per input partition at once; one fetch is one transaction. 4 MiB (~18,000 raw samples) keeps
   * the transactions' fixed cost small: at 1 MiB the enricher spent about a third more CPU per sample.
   */
  maxBytesPerPartition: fields.int({ min: 65_536, max: 64 * 1024 * 1024 }).default(4 * 1024 * 1024),
  /**
   * Most bytes of output per produce request inside a transaction (a batch's output goes out in as many
   * requests as needed); at most the output topic's `max.message.bytes` (1 MiB by default). kafkajs groups a
   * request's messages by partition in time quadratic in their number: 256 KiB (~470 enriched samples) cost
   * about 4 µs less CPU per sample than 1 MiB.
   */
  maxOutputBatchBytes: fields.int({ min: 16_384, max: 64 * 1024 * 1024 }).default(256 * 1024),
  /**
   * Input partitions whose batches are enriched and committed at the same time, each through its own transactional
   * producer (one batch per transaction); one fetch carries up to `maxBytesPerPartition` for each of them.
   */
  partitionsConcurrently: fields.int({ min: 1, max: 64 }).default(3),
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
