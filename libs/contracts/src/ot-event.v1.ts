import { z } from 'zod';
import { isoTime, jsonValue, sequenceNumber, sourceId } from './common';
import { defineTopic } from './topic';

/** What an OT event is about. */
export const otEventKind = z.enum([
  /** OPC UA Alarms & Conditions state change. */
  'alarm',
  /** OPC UA audit event: write, method call, session, certificate. */
  'audit',
  /** The connector's own connection to a source changed (connected, lost, reconnected). */
  'connection',
  /** An interval of a series' data could not be recovered. */
  'gap',
  /** The source's address space changed (nodes added or removed). */
  'model-change',
]);

/**
 * An event from the plant floor or about the link to it.
 *
 * `time` is when it happened at the source; `type` is the OPC UA event type
 * name (`AuditWriteUpdateEventType`) or a connector event (`connector.connection-lost`).
 */
export const otEventV1Schema = z.object({
  /** Unique id; for OPC UA events the EventId in hex, so a redelivery is recognisable. */
  eventId: z.string().min(1).max(200),
  sourceId,
  /** Per-source sequence number of events, when the producer keeps one. */
  seq: sequenceNumber.optional(),
  kind: otEventKind,
  type: z.string().min(1).max(200),
  time: isoTime,
  receivedTime: isoTime.optional(),
  /** OPC UA severity, 1 (lowest) to 1000 (highest). */
  severity: z.number().int().min(1).max(1000),
  message: z.string().max(4000),
  /** The node the event is about (SourceNode for alarms, the written node for audit writes). */
  nodeId: z.string().max(1000).optional(),
  browsePath: z.string().max(2000).optional(),
  /** Who caused it, for audit events. */
  actor: z
    .object({
      user: z.string().optional(),
      clientAddress: z.string().optional(),
      clientApplicationUri: z.string().optional(),
      sessionId: z.string().optional(),
    })
    .optional(),
  /** Condition state, for alarms. */
  alarm: z
    .object({
      conditionId: z.string(),
      active: z.boolean(),
      acked: z.boolean().optional(),
      confirmed: z.boolean().optional(),
      suppressed: z.boolean().optional(),
      limitState: z.string().optional(),
    })
    .optional(),
  /** The unrecoverable interval, for gaps; `nodeId` absent means the whole source. */
  gap: z.object({ from: isoTime, to: isoTime, reason: z.string() }).optional(),
  /** Further fields of the source event, decoded to JSON (old and new value of a write, method arguments, ...). */
  attributes: z.record(z.string(), jsonValue).default({}),
});
/** One OT event. */
export type OtEventV1 = z.infer<typeof otEventV1Schema>;

/** Alarms, audit events, connection changes and gaps from the OT side. */
export const otEventsV1 = defineTopic({
  name: 'ot.events.v1',
  description: 'OPC UA alarms and audit events, connector connection changes and data gaps',
  schema: otEventV1Schema,
  key: (e) => e.sourceId,
});
