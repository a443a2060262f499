import type { JsonValue, OtEventV1 } from '@weir/contracts';
import { shortNodeId, type EventRecord } from '@weir/opcua';

/** How an OPC UA event type is classified, from its supertype chain. */
export type EventClass = 'alarm' | 'audit' | 'model-change' | 'other';

/** AuditEventType, ConditionType, BaseModelChangeEventType (Part 5). */
const AUDIT_EVENT_TYPE = 'i=2052';
const CONDITION_TYPE = 'i=2782';
const MODEL_CHANGE_EVENT_TYPE = 'i=2132';

/** Classifies an event type by its supertype chain (itself first). */
export function classifyEventType(ancestors: readonly string[]): EventClass {
  if (ancestors.includes(CONDITION_TYPE)) return 'alarm';
  if (ancestors.includes(AUDIT_EVENT_TYPE)) return 'audit';
  if (ancestors.includes(MODEL_CHANGE_EVENT_TYPE)) return 'model-change';
  return 'other';
}

// Fields that become first-class properties of the event; everything else non-null goes to attributes.
const MAPPED = new Set(['EventId', 'EventType', 'SourceNode', 'SourceName', 'Time', 'ReceiveTime', 'Message', 'Severity', 'ConditionId', 'ActiveState.Id', 'AckedState.Id', 'ConfirmedState.Id', 'SuppressedState.Id', 'LimitState.CurrentState', 'ClientUserId']);

const text = (v: JsonValue | undefined): string | undefined => {
  if (v === null || v === undefined) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && !Array.isArray(v) && typeof v['text'] === 'string') return v['text'];
  return String(v);
};
const bool = (v: JsonValue | undefined): boolean | undefined => (typeof v === 'boolean' ? v : undefined);
const isoOr = (v: JsonValue | undefined, fallback: string): string => (typeof v === 'string' && !Number.isNaN(Date.parse(v)) ? new Date(v).toISOString() : fallback);

/** Lower-case hex of a base64 EventId, so a redelivered event has the same id. */
export function eventIdHex(v: JsonValue | undefined): string | undefined {
  if (typeof v !== 'string' || v.length === 0) return undefined;
  return Buffer.from(v, 'base64').toString('hex');
}

/**
 * An OPC UA event (alarm, audit or model change) as an `ot.events.v1`
 * message. The type is the event type's browse name; the actor comes from
 * ClientUserId and, where the server adds them (the plant simulator does in
 * its own namespace), ClientAddress, ClientApplicationUri and SessionId
 * fields; condition state from the condition fields; every other field with
 * a value lands in `attributes`.
 */
export function toOtEvent(record: EventRecord, ctx: { sourceId: string; kind: Exclude<EventClass, 'other'>; typeName: string; receivedTime: string; seq?: number }): OtEventV1 {
  const id = eventIdHex(record['EventId']) ?? `${ctx.sourceId}:${ctx.typeName}:${text(record['Time']) ?? ctx.receivedTime}`;
  const severity = typeof record['Severity'] === 'number' ? Math.min(1000, Math.max(1, Math.round(record['Severity']))) : 1;
  const attributes: Record<string, JsonValue> = {};
  for (const [k, v] of Object.entries(record)) {
    if (v === null || MAPPED.has(k)) continue;
    attributes[k.replace(/^\d+:/, '')] = v;
  }
  const event: OtEventV1 = {
    eventId: id.slice(0, 200),
    sourceId: ctx.sourceId,
    kind: ctx.kind,
    type: ctx.typeName.slice(0, 200) || 'BaseEventType',
    time: isoOr(record['Time'], ctx.receivedTime),
    receivedTime: ctx.receivedTime,
    severity,
    message: (text(record['Message']) ?? '').slice(0, 4000),
    attributes,
  };
  if (ctx.seq !== undefined) event.seq = ctx.seq;
  const sourceNodeText = text(record['SourceNode']);
  const sourceNode = sourceNodeText ? shortNodeId(sourceNodeText) : undefined;
  if (sourceNode && sourceNode !== 'i=0') event.nodeId = sourceNode;
  if (ctx.kind === 'audit') {
    const actor: NonNullable<OtEventV1['actor']> = {};
    const user = text(record['ClientUserId']);
    if (user) actor.user = user;
    const address = text(attributes['ClientAddress']);
    if (address) actor.clientAddress = address;
    const appUri = text(attributes['ClientApplicationUri']);
    if (appUri) actor.clientApplicationUri = appUri;
    const session = text(attributes['SessionId']);
    if (session) actor.sessionId = session;
    if (Object.keys(actor).length > 0) event.actor = actor;
  }
  if (ctx.kind === 'alarm') {
    const conditionId = text(record['ConditionId']);
    const alarm: NonNullable<OtEventV1['alarm']> = { conditionId: conditionId ? shortNodeId(conditionId) : (sourceNode ?? id), active: bool(record['ActiveState.Id']) ?? false };
    const acked = bool(record['AckedState.Id']);
    if (acked !== undefined) alarm.acked = acked;
    const confirmed = bool(record['ConfirmedState.Id']);
    if (confirmed !== undefined) alarm.confirmed = confirmed;
    const suppressed = bool(record['SuppressedState.Id']);
    if (suppressed !== undefined) alarm.suppressed = suppressed;
    const limit = text(record['LimitState.CurrentState']);
    if (limit) alarm.limitState = limit;
    event.alarm = alarm;
  }
  return event;
}
