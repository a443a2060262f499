import { fields } from '@weir/config';
import { kafkaSettingsSchema } from '@weir/kafka';
import { observabilitySettingsSchema } from '@weir/observability';
import { databaseSettingsSchema } from '@weir/timescale';
import { z } from 'zod';

/** The feeds the sink can consume; each is one or more topics with its own consumer. */
export const SINK_FEEDS = ['telemetry', 'ot-events', 'security-events', 'alerts', 'erp'] as const;
/** One feed of the sink. */
export type SinkFeed = (typeof SINK_FEEDS)[number];

const regex = fields.regex();

/** How machine state intervals are derived from state tags. */
export const stateSettingsSchema = z
  .object({
    /**
     * A series is a state tag when this pattern matches its node id (or browse path, see `matchOn`).
     * The first capture group is the machine prefix; the reason tag is that prefix + `reasonSuffix`.
     * Default `^(.*[./=])State$`: `ns=3;s=Line1.Filler.State` (prefix `ns=3;s=Line1.Filler.`).
     */
    tagPattern: regex.default('^(.*[./=])State$'),
    /** Match `tagPattern` against the node id (default) or the browse path. */
    matchOn: z.enum(['nodeId', 'browsePath']).default('nodeId'),
    /** Suffix of the sibling tag holding the reason code (an integer), e.g. `DownReason`; empty for none. */
    reasonSuffix: z.string().max(200).default('DownReason'),
    /** The reason of a state change is the reason tag's value at most this long after it (the two tags are sampled separately). */
    reasonGraceMs: fields.durationMs().default(1000),
    /** Names of numeric state codes; text states (running, idle, down) are stored lower-cased as they come. */
    codes: z.record(z.string().regex(/^-?\d+$/), z.string().min(1).max(50)).default({ '0': 'running', '1': 'idle', '2': 'down' }),
  })
  .default({ tagPattern: '^(.*[./=])State$', matchOn: 'nodeId', reasonSuffix: 'DownReason', reasonGraceMs: 1000, codes: { '0': 'running', '1': 'idle', '2': 'down' } });

/** Settings of the timescale-sink itself (under `sink`, `WEIR_SINK__*`). */
export const sinkSectionSchema = z.object({
  /** Prefix of the sink's consumer groups, one per topic (`<groupId>.<topic>`); instances with the same prefix share the partitions. */
  groupId: z.string().min(1).max(200).default('timescale-sink'),
  /** Feeds to consume (comma-separated from the environment): telemetry, ot-events, security-events, alerts, erp. */
  feeds: fields.list(z.enum(SINK_FEEDS)).default([...SINK_FEEDS]),
  /** Most messages written in one database transaction (a fetched batch is split). */
  batchSize: fields.int({ min: 1, max: 100_000 }).default(5000),
  /** Longest a fetch waits for data before a smaller batch is written, in ms: the flush interval under light load. */
  flushIntervalMs: fields.durationMs().default(500),
  /** Most bytes fetched per partition at once; with ~400 B messages 4 MiB is ~10k messages. */
  maxBytesPerPartition: fields.int({ min: 65_536, max: 64 * 1024 * 1024 }).default(4 * 1024 * 1024),
  /** Partitions of the telemetry topic written at the same time (each in order); overlaps decoding with database work. */
  partitionsConcurrently: fields.int({ min: 1, max: 64 }).default(2),
  /** Longest pause between retries of a failed write (database down), in ms; retries start at 200 ms and double. */
  retryMaxMs: fields.durationMs().default(5000),
  /** Apply pending migrations at start-up (the migrator is safe when several instances start at once). */
  migrate: fields.bool().default(true),
  /** Create missing topics (and their DLQs) at start-up. */
  provisionTopics: fields.bool().default(true),
  /** How often a series' `last_seen` is refreshed, at most, in ms of source time. */
  lastSeenResolutionMs: fields.durationMs().default(60_000),
  state: stateSettingsSchema,
  rollups: z
    .object({
      /** How often the rollup maintainer recomputes invalidated buckets (Apache licence only), in ms. */
      intervalMs: fields.durationMs().default(10_000),
      /** A 1-minute bucket is recomputed once it ended at least this long ago (wall clock), so a filling bucket is not re-read on every pass. */
      settleMs: fields.durationMs().default(30_000),
    })
    .default({ intervalMs: 10_000, settleMs: 30_000 }),
  completeness: z
    .object({
      /** Look for holes in each source's sequence numbers. */
      sequenceGaps: fields.bool().default(true),
      /** How often, in ms. */
      intervalMs: fields.durationMs().default(10_000),
      /** A hole is declared a gap once data after it has been stored this long (ms) without the hole filling: partitions lag each other. */
      graceMs: fields.durationMs().default(120_000),
    })
    .default({ sequenceGaps: true, intervalMs: 10_000, graceMs: 120_000 }),
  retention: z
    .object({
      /** How often expired chunks are dropped on the Apache licence, in ms; 0 turns it off. */
      enforceIntervalMs: fields.durationMs().default(3_600_000),
      /** Retention per hypertable (`telemetry: 400d`), applied to weir_retention at start-up; tables not named keep theirs. */
      dropAfter: z.record(z.string().min(1), fields.durationMs()).default({}),
    })
    .default({ enforceIntervalMs: 3_600_000, dropAfter: {} }),
  /** Chunk time interval of future chunks per hypertable (`telemetry: 6h`), applied at start-up. */
  chunkIntervals: z.record(z.string().min(1), fields.durationMs()).default({}),
});
/** The sink section after validation. */
export type SinkSection = z.infer<typeof sinkSectionSchema>;

/** Every setting of the timescale-sink, loaded once in main with `loadConfig(sinkSettingsSchema, { env: process.env })`. */
export const sinkSettingsSchema = z.object({
  kafka: kafkaSettingsSchema,
  database: databaseSettingsSchema.extend({ applicationName: z.string().min(1).max(63).default('weir-timescale-sink') }),
  observability: observabilitySettingsSchema.default({ logLevel: 'info', opsHost: '127.0.0.1', opsPort: 9464 }),
  sink: sinkSectionSchema.default(sinkSectionSchema.parse({})),
});
/** The sink's settings after validation. */
export type SinkSettings = z.infer<typeof sinkSettingsSchema>;
