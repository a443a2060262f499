import { z } from 'zod';
import { isoTime, jsonValue } from './common';
import { defineTopic } from './topic';

/** A network endpoint as OCSF names it. */
export const ocsfEndpoint = z.object({
  ip: z.string().optional(),
  port: z.number().int().min(0).max(65535).optional(),
  hostname: z.string().optional(),
  /** Address assigned inside a VPN tunnel, as seen by the plant network. */
  intermediate_ips: z.array(z.string()).optional(),
});

/**
 * An IT security event normalised to OCSF (1.x): Authentication (3002),
 * Network Activity (4001), Tunnel Activity (4014), API Activity (6003),
 * Detection Finding (2004) from EDR/AV. Field names are OCSF's, so a SIEM
 * reads them as it would any OCSF source.
 */
export const itSecurityEventV1Schema = z.object({
  /** Our id for the event (unique per source). */
  uid: z.string().min(1).max(200),
  /** OCSF class: 3002 Authentication, 4001 Network Activity, 4014 Tunnel Activity, 6003 API Activity, 2004 Detection Finding, 0 Base Event (unparsed). */
  class_uid: z.number().int().nonnegative(),
  class_name: z.string().optional(),
  category_uid: z.number().int().nonnegative(),
  /** OCSF activity within the class (for Authentication: 1 Logon, 2 Logoff). */
  activity_id: z.number().int().nonnegative(),
  /** When the event happened at its source. */
  time: isoTime,
  /** OCSF severity: 0 Unknown, 1 Informational .. 5 Critical, 6 Fatal. */
  severity_id: z.number().int().min(0).max(6),
  /** OCSF status: 1 Success, 2 Failure. */
  status_id: z.number().int().min(0).max(99).optional(),
  message: z.string().max(8000).optional(),
  user: z.object({ name: z.string().optional(), domain: z.string().optional(), uid: z.string().optional() }).optional(),
  src_endpoint: ocsfEndpoint.optional(),
  dst_endpoint: ocsfEndpoint.optional(),
  /** Authentication: whether multi-factor authentication was used. */
  is_mfa: z.boolean().optional(),
  /** Authentication: whether the logon came from a remote location (VPN, RDP). */
  is_remote: z.boolean().optional(),
  /** Authentication: Windows logon type (2 interactive, 3 network, 10 remote interactive). */
  logon_type_id: z.number().int().optional(),
  metadata: z.object({
    product: z.object({ name: z.string(), vendor_name: z.string().optional() }),
    /** The parser or receiver that produced this event. */
    log_name: z.string().optional(),
    original_time: z.string().optional(),
    version: z.string().default('1.3.0'),
  }),
  /** The original message, kept for events that could not be parsed completely. */
  raw_data: z.string().max(65536).optional(),
  /** Fields of the source with no OCSF home. */
  unmapped: z.record(z.string(), jsonValue).optional(),
});
/** One normalised IT security event. */
export type ItSecurityEventV1 = z.infer<typeof itSecurityEventV1Schema>;

/** Remote access, identity and endpoint events from the IT side. */
export const itSecurityEventsV1 = defineTopic({
  name: 'it.security-events.v1',
  description: 'VPN, identity and EDR events normalised to OCSF',
  schema: itSecurityEventV1Schema,
  key: (e) => e.src_endpoint?.ip ?? e.user?.name ?? e.uid,
});
