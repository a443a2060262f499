import { fields } from '@weir/config';
import { observabilitySettingsSchema } from '@weir/observability';
import { databaseSettingsSchema } from '@weir/timescale';
import { z } from 'zod';
import { huntSectionSchema } from './hunt/hunt.config';

/** The roles a caller can have, least to most privileged (see README "Roles"). */
export const ROLES = ['viewer', 'analyst', 'soc', 'admin'] as const;
/** One role. */
export type Role = (typeof ROLES)[number];

/** Sites a caller may read: site ids, or `*` for every site. */
const sitesField = fields.list(z.string().min(1).max(200)).refine((s) => s.length > 0, 'must name at least one site id, or *');

/** One API key: only its SHA-256 is configured, so the settings hold no usable secret. */
export const apiKeySchema = z.object({
  /** Hex SHA-256 of the key (`printf %s "$KEY" | sha256sum`). */
  sha256: z.string().regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hex digits (the SHA-256 of the key)').transform((v) => v.toLowerCase()),
  role: z.enum(ROLES),
  /** Site ids this key may read (comma-separated from the environment), or `*`. */
  sites: sitesField,
});
/** One configured API key. */
export type ApiKeySettings = z.infer<typeof apiKeySchema>;

/** Settings of the analytics API itself (under `api`, `WEIR_API__*`). */
export const apiSectionSchema = z.object({
  /** Address the REST API listens on. */
  host: z.string().min(1).default('127.0.0.1'),
  /** Port of the REST API; 0 picks a free one. Separate from the ops (health/metrics) port. */
  port: fields.port().default(8080),
  auth: z
    .object({
      /** HS256 secret for bearer tokens (at least 32 characters); without it only API keys are accepted. */
      jwtSecret: z.string().min(32, 'must be at least 32 characters').optional(),
      /** Required `iss` claim of tokens, if set. */
      jwtIssuer: z.string().min(1).optional(),
      /** Required `aud` claim of tokens, if set. */
      jwtAudience: z.string().min(1).optional(),
      /** Tolerated clock difference for `exp` and `nbf`, in ms. */
      clockSkewMs: fields.durationMs().default(30_000),
      /** API keys by name (`WEIR_API__AUTH__API_KEYS__GRAFANA__SHA256=...`, `__ROLE=viewer`, `__SITES=hh,muc`). */
      apiKeys: z.record(z.string().min(1).max(100), apiKeySchema).default({}),
    })
    .default({ clockSkewMs: 30_000, apiKeys: {} }),
  rateLimit: z
    .object({
      /** Sustained requests per minute per caller (key or token subject); 0 turns limiting off. */
      perMinute: fields.int({ min: 0, max: 1_000_000 }).default(600),
      /** Requests a caller may make at once above the sustained rate. */
      burst: fields.int({ min: 1, max: 100_000 }).default(60),
    })
    .default({ perMinute: 600, burst: 60 }),
  limits: z
    .object({
      /** Most points (series × buckets) one bucketed query may return. */
      maxPoints: fields.int({ min: 100, max: 10_000_000 }).default(200_000),
      /** Most rows of one raw page. */
      maxRawRows: fields.int({ min: 10, max: 1_000_000 }).default(10_000),
      /** Most series in one query. */
      maxSeries: fields.int({ min: 1, max: 10_000 }).default(200),
      /** Longest time range of one query, in ms. */
      maxRangeMs: fields.durationMs().default(400 * 86_400_000),
    })
    .default({ maxPoints: 200_000, maxRawRows: 10_000, maxSeries: 200, maxRangeMs: 400 * 86_400_000 }),
});
/** The api section after validation. */
export type ApiSection = z.infer<typeof apiSectionSchema>;

/** Every setting of the analytics API, loaded once in main with `loadConfig(analyticsSettingsSchema, { env: process.env })`. */
export const analyticsSettingsSchema = z.object({
  database: databaseSettingsSchema.extend({ applicationName: z.string().min(1).max(63).default('weir-analytics-api') }),
  // 9465: the API's own port is usually 8080 and the ops port of a co-located service 9464. The key's default,
  // not only the section's, so setting another observability key does not move the port.
  observability: observabilitySettingsSchema.extend({
    /** Port of the health/metrics server; 0 picks a free one. */
    opsPort: fields.port().default(9465),
  }).default({ logLevel: 'info', opsHost: '127.0.0.1', opsPort: 9465 }),
  api: apiSectionSchema.default(apiSectionSchema.parse({})),
  /** Retro-hunts and the inventory (`WEIR_HUNT__*`, see README "Retro-hunts and inventory (SOC)"). */
  hunt: huntSectionSchema.default(huntSectionSchema.parse({})),
});
/** The analytics API's settings after validation. */
export type AnalyticsSettings = z.infer<typeof analyticsSettingsSchema>;
