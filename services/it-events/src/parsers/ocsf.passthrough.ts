import { formatIssues, isJsonValue, itSecurityEventV1Schema, type ItSecurityEventV1, type JsonValue } from '@weir/contracts';
import { isObject, type JsonObject } from './json-path';

/** True when a JSON document claims to be OCSF: a numeric `class_uid`. */
export function looksLikeOcsf(doc: JsonObject): boolean {
  return typeof doc['class_uid'] === 'number';
}

const KNOWN = new Set(Object.keys(itSecurityEventV1Schema.shape));

/** The outcome of taking an OCSF event as it is. */
export type OcsfPassthroughResult = { ok: true; event: ItSecurityEventV1 } | { ok: false; reason: string };

/**
 * Takes an OCSF event as the source wrote it. OCSF's own conventions are
 * accepted: `time` as epoch milliseconds (or `time_dt`), `category_uid`
 * derived from `class_uid` when missing. OCSF attributes our contract does
 * not name (`finding_info`, `device`, `actor`, ...) are kept under
 * `unmapped`, not dropped. `uid` is `metadata.uid` when the source set one.
 */
export function ocsfPassthrough(doc: JsonObject, fill: { uid: string; logName: string }): OcsfPassthroughResult {
  const input: Record<string, unknown> = {};
  const extra: Record<string, JsonValue> = {};
  for (const [k, v] of Object.entries(doc)) {
    if (KNOWN.has(k)) input[k] = v;
    else if (k !== 'time_dt' && isJsonValue(v)) extra[k] = v;
  }
  if (typeof input['time'] === 'number' && Number.isFinite(input['time'])) input['time'] = new Date(input['time']).toISOString();
  if (input['time'] === undefined && typeof doc['time_dt'] === 'string') input['time'] = doc['time_dt'];
  if (input['category_uid'] === undefined && typeof input['class_uid'] === 'number') input['category_uid'] = Math.floor(input['class_uid'] / 1000);
  const metadata = isObject(input['metadata']) ? { ...input['metadata'] } : input['metadata'];
  if (isObject(metadata)) {
    if (input['uid'] === undefined && typeof metadata['uid'] === 'string' && metadata['uid'].length > 0) input['uid'] = metadata['uid'];
    metadata['log_name'] ??= fill.logName;
    input['metadata'] = metadata;
  }
  input['uid'] ??= fill.uid;
  if (Object.keys(extra).length > 0) input['unmapped'] = { ...(isObject(input['unmapped']) ? input['unmapped'] : {}), ...extra };
  const parsed = itSecurityEventV1Schema.safeParse(input);
  if (!parsed.success) return { ok: false, reason: `not a valid OCSF event for it.security-events.v1: ${formatIssues(parsed.error)}` };
  return { ok: true, event: parsed.data };
}
