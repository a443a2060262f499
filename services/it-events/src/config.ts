import { fields } from '@weir/config';
import { kafkaSettingsSchema } from '@weir/kafka';
import { observabilitySettingsSchema } from '@weir/observability';
import { z } from 'zod';

const mfaDeclaration = z.enum(['unknown', 'always', 'never']);

/** A listener that can be turned off. */
const listener = (port: number) => ({
  /** Listen at all. */
  enabled: fields.bool().default(true),
  /** Port; 0 picks a free one (tests). */
  port: fields.port().default(port),
});

/** Syslog receivers. */
export const syslogSettingsSchema = z.object({
  /** Address the syslog listeners bind; `0.0.0.0` (or `::`) to receive from the network. */
  host: z.string().min(1).default('127.0.0.1'),
  /** TCP, octet counting or LF framing (RFC 6587). */
  tcp: z.object(listener(5514)).prefault({}),
  /** UDP (RFC 5426), one message per datagram. */
  udp: z
    .object({
      ...listener(5514),
      /** Kernel receive buffer (SO_RCVBUF) in bytes, to ride out bursts; the OS default when absent. */
      receiveBufferBytes: fields.int({ min: 4096, max: 1 << 30 }).optional(),
    })
    .prefault({}),
  /** TLS (RFC 5425); on when `certFile` and `keyFile` are set. */
  tls: z
    .object({
      port: fields.port().default(6514),
      /** PEM server certificate (chain). */
      certFile: z.string().min(1),
      /** PEM private key of `certFile` (a path; the key itself is never logged). */
      keyFile: z.string().min(1),
      /** PEM CA certificate(s) that sign client certificates; with it, clients are asked for a certificate. */
      clientCaFile: z.string().min(1).optional(),
      /** Refuse clients without a certificate signed by `clientCaFile` (mutual TLS). */
      requireClientCert: fields.bool().default(false),
    })
    .refine((t) => !t.requireClientCert || t.clientCaFile !== undefined, { message: 'requireClientCert needs clientCaFile', path: ['clientCaFile'] })
    .optional(),
  /** Longest syslog message kept whole (bytes); longer frames are cut to this and counted. RFC 5425 asks receivers for at least 2048. */
  maxFrameBytes: fields.int({ min: 2048, max: 65_536 }).default(65_536),
  /** Most TCP + TLS connections at once, per listener. */
  maxConnections: fields.int({ min: 1, max: 100_000 }).default(1000),
});

/** The HTTP JSON receiver. */
export const httpSettingsSchema = z.object({
  ...listener(8088),
  /** Address it binds. */
  host: z.string().min(1).default('127.0.0.1'),
  /** Largest request body in bytes. */
  maxBodyBytes: fields.int({ min: 1024, max: 256 * 1024 * 1024 }).default(10 * 1024 * 1024),
  /** Bearer token the callers must send; no authentication when absent (then bind to a trusted network only). Redacted in logs. */
  token: z.string().min(16, 'at least 16 characters').optional(),
});

/** Per-source parser settings, mainly MFA declarations for sources whose logs cannot say. */
export const sourcesSettingsSchema = z.object({
  openvpn: z.object({ /** `always` when the server's auth plugin enforces a second factor for every user; `unknown` leaves is_mfa absent. */ mfa: mfaDeclaration.default('unknown') }).prefault({}),
  fortigate: z.object({ /** `always` when every VPN user must pass FortiToken (or another second factor). */ mfa: mfaDeclaration.default('unknown') }).prefault({}),
  globalprotect: z.object({ /** `always` when the portal/gateway authentication profile (or its SAML IdP) enforces a second factor. */ mfa: mfaDeclaration.default('unknown') }).prefault({}),
  sshd: z
    .object({
      /** The PAM stack behind keyboard-interactive asks for a second factor (an OTP module): such logons are MFA. */
      pamSecondFactor: fields.bool().default(false),
      /** How long a `Partial` or second-factor line waits for the `Accepted` line of the same logon. */
      correlationWindow: fields.durationMs().default(120_000),
    })
    .prefault({}),
});

/**
 * Settings of it-events. Environment variables map with `WEIR_` and `__`
 * between levels: `WEIR_KAFKA__BROKERS`, `WEIR_SYSLOG__HOST=0.0.0.0`,
 * `WEIR_SYSLOG__TLS__CERT_FILE`, `WEIR_HTTP__TOKEN`, `WEIR_SOURCES__SSHD__PAM_SECOND_FACTOR`.
 */
export const itEventsSettingsSchema = z.object({
  ...observabilitySettingsSchema.shape,
  kafka: kafkaSettingsSchema,
  syslog: syslogSettingsSchema.prefault({}),
  http: httpSettingsSchema.prefault({}),
  sources: sourcesSettingsSchema.prefault({}),
  /** Most events accepted and not yet acknowledged by Kafka; beyond it TCP/TLS stop reading, HTTP waits and UDP drops (counted). */
  maxPendingEvents: fields.int({ min: 100, max: 1_000_000 }).default(20_000),
  /** Delay before a syslog event whose Kafka delivery failed is sent again. */
  retryDelay: fields.durationMs().default(2000),
  /** At shutdown, how long at most to keep reading TCP/TLS senders that are still writing (each is closed once it goes quiet for 300 ms or closes). */
  drainRead: fields.durationMs().default(5000),
  /** At shutdown, how long to wait for Kafka to acknowledge what was read before events waiting for a retry are dropped (counted). */
  drainTimeout: fields.durationMs().default(15_000),
  /** How long the producer gathers events into one batch. */
  lingerMs: fields.int({ min: 0, max: 1000 }).default(5),
});

/** it-events' settings as parsed. */
export type ItEventsSettings = z.infer<typeof itEventsSettingsSchema>;
/** it-events' settings as written (defaults may be left out). */
export type ItEventsSettingsInput = z.input<typeof itEventsSettingsSchema>;
