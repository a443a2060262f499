import { fields } from '@weir/config';
import { z } from 'zod';

/** Logging and the local health/metrics endpoint, shared by every service. */
export const observabilitySettingsSchema = z.object({
  /** pino level: fatal, error, warn, info, debug, trace or silent. */
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Address the health/metrics server listens on; loopback by default so OT-side services expose nothing. */
  opsHost: z.string().default('127.0.0.1'),
  /** Port of the health/metrics server; 0 picks a free one. */
  opsPort: fields.port().default(9464),
});
/** Observability settings. */
export type ObservabilitySettings = z.infer<typeof observabilitySettingsSchema>;
