import type { ItSecurityEventV1, JsonValue } from '@weir/contracts';

/** Product that produced an event, as OCSF `metadata.product`. */
export interface Product {
  name: string;
  vendor_name?: string;
}

/** The OCSF classes this service emits, with their category. */
export const OCSF = {
  base: { class_uid: 0, category_uid: 0, class_name: 'Base Event' },
  detectionFinding: { class_uid: 2004, category_uid: 2, class_name: 'Detection Finding' },
  authentication: { class_uid: 3002, category_uid: 3, class_name: 'Authentication' },
  networkActivity: { class_uid: 4001, category_uid: 4, class_name: 'Network Activity' },
  tunnelActivity: { class_uid: 4014, category_uid: 4, class_name: 'Tunnel Activity' },
} as const;

/** OCSF activity ids used here: Authentication 1 Logon / 2 Logoff; Tunnel 1 Open / 2 Close; Network 1 Open, 2 Close, 4 Fail, 5 Refuse, 6 Traffic. */
export const ACTIVITY = { logon: 1, logoff: 2, open: 1, close: 2, fail: 4, refuse: 5, traffic: 6, create: 1 } as const;

/** OCSF status ids. */
export const STATUS = { unknown: 0, success: 1, failure: 2, other: 99 } as const;

/** OCSF severity ids: successes are informational, failed logons low, findings as the source says. */
export const SEVERITY = { unknown: 0, informational: 1, low: 2, medium: 3, high: 4, critical: 5 } as const;

/**
 * What a parser returns: the event without the fields the normaliser fills in
 * (uid, receive-time fallback, metadata from the receiver).
 */
export type EventDraft = Omit<ItSecurityEventV1, 'uid' | 'time' | 'metadata'> & {
  /** Event time when the source says it; the syslog header time or the receive time otherwise. */
  time?: string;
  /** The source's own time text, when it is not already in `time`. */
  originalTime?: string;
  product: Product;
};

/** A parser's verdict on one message. */
export type ParseResult = { ok: true; event: EventDraft } | { ok: false; reason: string };

/** How a source's logs tell (or do not tell) whether a second factor was used; see the README's MFA rules. */
export type MfaDeclaration = 'unknown' | 'always' | 'never';

/** `is_mfa` from an operator's declaration for a source whose logs cannot say: absent when unknown. */
export function declaredMfa(declaration: MfaDeclaration): { is_mfa?: boolean } {
  if (declaration === 'always') return { is_mfa: true };
  if (declaration === 'never') return { is_mfa: false };
  return {};
}

/** Drops keys whose value is undefined, so optional fields are absent rather than present-and-undefined. */
export function compact<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

/** True for an IPv4 or IPv6 literal. */
export function isIp(s: string | undefined): s is string {
  if (!s) return false;
  return IPV4.test(s) || (/^[0-9a-fA-F:.]+$/.test(s) && s.includes(':') && s.length >= 2);
}

/** A port number, or undefined when `s` is not one. */
export function toPort(s: string | number | undefined): number | undefined {
  const n = typeof s === 'number' ? s : s !== undefined && /^\d{1,5}$/.test(s) ? Number(s) : NaN;
  return Number.isInteger(n) && n >= 0 && n <= 65535 ? n : undefined;
}

/** `unmapped` fields without the absent ones. */
export function fieldsOf(o: Record<string, JsonValue | undefined>): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out;
}
