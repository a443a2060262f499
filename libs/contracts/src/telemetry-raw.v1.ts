import { z } from 'zod';
import { regexes } from 'zod/v4/core';
import { isJsonValue, isoTime, jsonValue, sequenceNumber, sourceId, statusCode } from './common';
import { defineTopic } from './topic';

/** Where a sample came from: live subscription or a historian read. */
export const telemetryOrigin = z.enum(['opcua', 'historian', 'file']);

/**
 * One sample as read at the source, before any context is added.
 *
 * Times are instants in ISO 8601; `sourceTime` is the device's timestamp and
 * the time the sample is stored under, `serverTime` the OPC UA server's.
 */
export const telemetryRawV1Schema = z.object({
  /** The source (OPC UA endpoint or historian) as configured in the connector. */
  sourceId,
  /** The node or tag at the source: an OPC UA NodeId string (`ns=3;s=Line1.Filler.Speed`) or a historian tag name. */
  nodeId: z.string().min(1).max(1000),
  /** Per-source sequence number; with `sourceId` it identifies the sample for deduplication. */
  seq: sequenceNumber,
  /** How the sample was obtained. */
  origin: telemetryOrigin,
  /** The value; numbers, text, booleans, arrays and decoded structures (as JSON objects). Null when the status is Bad with no value. */
  value: jsonValue,
  /** OPC UA built-in data type name (`Double`, `Int32`, `String`, `Boolean`, `ExtensionObject`, ...), when known. */
  dataType: z.string().max(100).optional(),
  /** The OPC UA StatusCode of the value; historian qualities are mapped to it. */
  status: statusCode,
  /** Device (source) timestamp. */
  sourceTime: isoTime,
  /** Server timestamp, when the server gives one. */
  serverTime: isoTime.optional(),
  /** When the connector received the value. */
  receivedTime: isoTime.optional(),
  /** Browse path below the Objects folder (`Plant/Line1/Filler/Speed`), when known; helps map to assets. */
  browsePath: z.string().max(2000).optional(),
  /** True for a heartbeat repeat of the last known value of a node that did not change. */
  heartbeat: z.boolean().optional(),
});
/** One raw sample. */
export type TelemetryRawV1 = z.infer<typeof telemetryRawV1Schema>;

/** The key that orders a series: all samples of one node of one source go to one partition. */
export function seriesKey(sample: { sourceId: string; nodeId: string }): string {
  return `${sample.sourceId}|${sample.nodeId}`;
}

const ISO_TIME = regexes.datetime({ offset: true, local: false, precision: null });
const SOURCE_ID = /^[A-Za-z0-9._:/-]+$/;
const ORIGINS: ReadonlySet<unknown> = new Set(telemetryOrigin.options);
const RAW_KEYS: ReadonlySet<string> = new Set(Object.keys(telemetryRawV1Schema.shape));

const optionalString = (v: unknown, max: number): boolean => v === undefined || (typeof v === 'string' && v.length <= max);
const optionalTime = (v: unknown): boolean => v === undefined || (typeof v === 'string' && ISO_TIME.test(v));

/**
 * The schema's rules for a raw sample written out by hand (zod's own
 * date-time pattern included): decoding every sample through zod cost about
 * as much as parsing its JSON. Anything unusual (an unknown key, a value it
 * is unsure of) returns false and goes through the schema.
 */
export function acceptsTelemetryRaw(v: unknown): boolean {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const m = v as Record<string, unknown>;
  for (const key in m) if (!RAW_KEYS.has(key)) return false;
  const { sourceId: src, nodeId, seq, status } = m;
  return (
    typeof src === 'string' &&
    src.length <= 200 &&
    SOURCE_ID.test(src) &&
    typeof nodeId === 'string' &&
    nodeId.length >= 1 &&
    nodeId.length <= 1000 &&
    typeof seq === 'number' &&
    Number.isSafeInteger(seq) &&
    seq >= 0 &&
    ORIGINS.has(m['origin']) &&
    isJsonValue(m['value']) &&
    typeof status === 'number' &&
    Number.isSafeInteger(status) &&
    status >= 0 &&
    status <= 0xffffffff &&
    typeof m['sourceTime'] === 'string' &&
    ISO_TIME.test(m['sourceTime']) &&
    optionalTime(m['serverTime']) &&
    optionalTime(m['receivedTime']) &&
    optionalString(m['dataType'], 100) &&
    optionalString(m['browsePath'], 2000) &&
    (m['heartbeat'] === undefined || typeof m['heartbeat'] === 'boolean')
  );
}

/** Raw samples from OPC UA connectors and historians. */
export const telemetryRawV1 = defineTopic({
  name: 'ot.telemetry.raw.v1',
  description: 'Samples as read from OPC UA servers and historians, with status and timestamps, before context is added',
  schema: telemetryRawV1Schema,
  key: seriesKey,
  accepts: acceptsTelemetryRaw,
});
