import { fields } from '@weir/config';
import { assetMappingRulesSchema } from '@weir/domain';
import { kafkaSettingsSchema } from '@weir/kafka';
import { observabilitySettingsSchema } from '@weir/observability';
import { z } from 'zod';

/** Where CEF alerts are sent (a SIEM's syslog receiver). */
export const siemSettingsSchema = z.object({
  /** Forward alerts as CEF over syslog. */
  enabled: fields.bool().default(false),
  /** Syslog receiver host. */
  host: z.string().min(1).default('127.0.0.1'),
  /** Syslog receiver port. */
  port: fields.port().default(514),
  /** `udp` (one datagram per alert) or `tcp` (one line per alert, LF-terminated). */
  protocol: z.enum(['udp', 'tcp']).default('udp'),
  /** Syslog facility number (0-23); 13 = log audit. */
  facility: fields.int({ min: 0, max: 23 }).default(13),
  /** Syslog APP-NAME. */
  appName: z.string().min(1).max(48).default('weir-correlator'),
  /** HOSTNAME field of the syslog header. */
  hostname: z.string().min(1).max(255).default('weir'),
});

/** Settings of the correlator itself (under `correlator`, `WEIR_CORRELATOR__*`). */
export const correlatorSectionSchema = z.object({
  /** Prefix of the consumer groups (`<groupId>.<topic>`). One instance per group (the state is not partitioned). */
  groupId: z.string().min(1).max(200).default('correlator'),
  /** Folders of rule files (`*.yml`), watched for changes; comma-separated in the environment. */
  rulesDirs: fields.list(z.string().min(1)).default([]),
  /** Load the built-in ICS rules too. */
  builtinRules: fields.bool().default(true),
  /** Reload rules when files in `rulesDirs` change. */
  watchRules: fields.bool().default(true),
  /** Wait this long after the last file change before reloading, ms. */
  reloadDebounceMs: fields.durationMs().default(500),
  /** Folder of the checkpoint (engine state + consumed offsets + unsent alerts). Must survive restarts. */
  stateDir: z.string().min(1).default('./data/correlator'),
  /** Consume enriched telemetry for the safe-limit rules (the largest input). */
  consumeTelemetry: fields.bool().default(true),
  /** How late an event may arrive (behind the newest) and still join a window, ms. */
  allowedLatenessMs: fields.durationMs().default(300_000),
  /** An input silent (in event time) this long behind the others stops holding windows open, ms. */
  idleInputMs: fields.durationMs().default(86_400_000),
  /** Default time an incident takes updates after its last event, ms. */
  incidentWindowMs: fields.durationMs().default(3_600_000),
  /** Least event time between two updates of one incident, ms. */
  minUpdateIntervalMs: fields.durationMs().default(60_000),
  /** OT source/node to asset rules, first match wins (JSON array from the environment). */
  assetMapping: fields.json(assetMappingRulesSchema).default([]),
  /** The broker drops an instance it has not heard from for this long, ms. */
  sessionTimeoutMs: fields.durationMs().default(30_000),
  /** Heartbeat interval, ms. */
  heartbeatIntervalMs: fields.durationMs().default(3_000),
  /** Create missing topics (and their DLQs) at start-up. */
  provisionTopics: fields.bool().default(true),
  siem: siemSettingsSchema.default(siemSettingsSchema.parse({})),
});
/** The correlator section after validation. */
export type CorrelatorSection = z.infer<typeof correlatorSectionSchema>;

/** Every setting of the correlator, loaded once in main. */
export const correlatorSettingsSchema = z.object({
  kafka: kafkaSettingsSchema,
  observability: observabilitySettingsSchema.default({ logLevel: 'info', opsHost: '127.0.0.1', opsPort: 9464 }),
  correlator: correlatorSectionSchema.default(correlatorSectionSchema.parse({})),
});
/** The correlator's settings after validation. */
export type CorrelatorSettings = z.infer<typeof correlatorSettingsSchema>;
