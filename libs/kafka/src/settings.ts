import { fields } from '@weir/config';
import { z } from 'zod';

// host:port, with a bracketed IPv6 literal allowed ("[::1]:9092").
const brokerAddress = z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):\d{1,5}$/, 'must be host:port');

/** TLS to the brokers: `true` for the system CAs, or files for a private CA and mutual TLS. */
export const kafkaSslSchema = z.union([
  fields.bool(),
  z.object({
    /** Path of a PEM file with the CA certificate(s) that signed the brokers' certificates; the system CAs when absent. */
    ca: z.string().min(1).optional(),
    /** Path of a PEM client certificate, for brokers that require mutual TLS. */
    cert: z.string().min(1).optional(),
    /** Path of the PEM private key of `cert`. */
    key: z.string().min(1).optional(),
    /** Verify the brokers' certificates and host names; `false` only in a lab. */
    rejectUnauthorized: fields.bool().default(true),
  }),
]);
/** TLS settings as parsed. */
export type KafkaSslSettings = z.infer<typeof kafkaSslSchema>;

/** SASL mechanisms kafkajs speaks without plugins. */
export const saslMechanisms = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;

/** SASL authentication to the brokers. */
export const kafkaSaslSchema = z.object({
  /** `plain`, `scram-sha-256` or `scram-sha-512` (case does not matter). Use PLAIN only over TLS. */
  mechanism: z.preprocess((v) => (typeof v === 'string' ? v.toLowerCase() : v), z.enum(saslMechanisms)),
  /** SASL user name. */
  username: z.string().min(1),
  /** SASL password; redacted in logs. */
  password: z.string().min(1),
});
/** SASL settings as parsed. */
export type KafkaSaslSettings = z.infer<typeof kafkaSaslSchema>;

/**
 * Connection and provisioning settings shared by every service that talks to
 * Kafka. Embed as `kafka: kafkaSettingsSchema` in a service's settings; from
 * the environment they are `WEIR_KAFKA__BROKERS=a:9092,b:9092`,
 * `WEIR_KAFKA__SASL__PASSWORD=...`, and so on.
 */
export const kafkaSettingsSchema = z.object({
  /** Bootstrap brokers, `host:port`; a comma-separated list from the environment. At least one. */
  brokers: fields.list(brokerAddress).refine((b) => b.length > 0, 'at least one broker'),
  /** Client id the brokers see in their logs, quotas and ACLs; usually the service name. */
  clientId: z.string().min(1).max(200).default('weir'),
  /**
   * Prefix of every topic name of this deployment (`plant1.` makes `plant1.ot.telemetry.raw.v1`),
   * so several deployments can share one cluster. Empty by default.
   */
  topicPrefix: z
    .string()
    .regex(/^[A-Za-z0-9._-]*$/, 'letters, digits and . _ - only (Kafka topic characters)')
    .max(100)
    .default(''),
  /** `true`/`false`, or `{ ca, cert, key, rejectUnauthorized }` with file paths. Off by default. */
  ssl: kafkaSslSchema.default(false),
  /** SASL credentials; none by default. */
  sasl: kafkaSaslSchema.optional(),
  /** How long to wait for a TCP (and TLS) connection to a broker, in ms; `5s` style from the environment. */
  connectionTimeoutMs: fields.durationMs().default(3000),
  /** How long to wait for a broker to answer a request, in ms. */
  requestTimeoutMs: fields.durationMs().default(30_000),
  /** Partitions for topics this deployment creates; each topic's own default (3 or 6) when absent. */
  partitions: fields.int({ min: 1, max: 10_000 }).optional(),
  /** Replication factor for topics this deployment creates; the smaller of 3 and the number of brokers when absent. */
  replicationFactor: fields.int({ min: 1, max: 100 }).optional(),
});
/** Kafka settings as parsed (defaults filled in). */
export type KafkaSettings = z.infer<typeof kafkaSettingsSchema>;
/** Kafka settings as written in a file or passed in code (defaults may be left out). */
export type KafkaSettingsInput = z.input<typeof kafkaSettingsSchema>;
