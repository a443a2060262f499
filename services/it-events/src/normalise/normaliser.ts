import { randomUUID } from 'node:crypto';
import { isJsonValue, isoTime, type ItSecurityEventV1, type JsonValue } from '@weir/contracts';
import type { ItEventsErrorCode } from '../errors';
import { isEcsAlert, isEcsAuthentication, looksLikeEcs, parseEcsAlert, parseEcsAuthentication } from '../parsers/ecs.parser';
import { isObject, str } from '../parsers/json-path';
import { looksLikeOcsf, ocsfPassthrough } from '../parsers/ocsf.passthrough';
import type { SyslogParser } from '../parsers/syslog-parser';
import { isWindowsLogon, parseWindowsLogon } from '../parsers/windows-logon.parser';
import { parseSyslog, type SyslogMessage } from '../syslog/syslog-message';
import type { EventDraft, ParseResult, Product } from './ocsf';
import { OCSF } from './ocsf';

/** How an event reached us. */
export type Transport = 'tcp' | 'tls' | 'udp' | 'http';

/** Where and when an input arrived. */
export interface Arrival {
  transport: Transport;
  /** Address of the sender (the relay, for relayed syslog). */
  peer?: { ip: string; port?: number };
  receivedAt: Date;
}

/** A normalised event and how it was obtained, for metrics. */
export interface Normalised {
  event: ItSecurityEventV1;
  /** The parser that mapped it, or `none` for a class-0 event. */
  parser: string;
  /** Set for class-0 events: why the input could not be mapped. */
  unparsed?: ItEventsErrorCode;
}

/** What JSON the caller says it sends; `auto` decides per document. */
export type JsonHint = 'auto' | 'ecs' | 'ocsf';

const RAW_MAX = 65_536;
const MESSAGE_MAX = 8000;
const UNKNOWN_PRODUCT: Product = { name: 'unknown' };

/**
 * Turns syslog frames and JSON documents into `it.security-events.v1`
 * events. The parser is chosen from the message: a JSON body goes to the OCSF
 * or ECS mappings; otherwise a parser whose app-name it is, then one that
 * recognises the content. What no parser maps becomes an OCSF Base Event
 * (class 0) with the raw input and the reason, never nothing.
 */
export class Normaliser {
  constructor(private readonly parsers: readonly SyslogParser[]) {}

  /** Normalises one syslog frame (one message). */
  fromSyslog(raw: string, arrival: Arrival): Normalised {
    const header = parseSyslog(raw, arrival.receivedAt);
    if (!header.ok) return this.unparsed(raw, 'IT_EVENTS.BAD_SYSLOG_HEADER', header.reason, arrival);
    const m = header.message;
    const syslog = syslogInfo(m);
    if (/^\s*[{[]/.test(m.msg)) {
      let doc: unknown;
      try {
        doc = JSON.parse(m.msg);
      } catch (err) {
        return this.unparsed(raw, 'IT_EVENTS.NOT_JSON', `syslog message body looks like JSON but is not: ${(err as Error).message}`, arrival, { syslog }, m.time);
      }
      return this.fromJson(doc, arrival, 'auto', raw, m);
    }
    const parser = this.parsers.find((p) => p.claims(m)) ?? this.parsers.find((p) => p.recognises(m));
    if (!parser) {
      return this.unparsed(raw, 'IT_EVENTS.NO_PARSER', `no parser for app-name "${m.appName ?? '-'}" recognises this message`, arrival, { syslog }, m.time);
    }
    return this.finish(parser.parse(m), parser.name, parser.product, raw, arrival, m);
  }

  /** Normalises one JSON document (an HTTP body item, an NDJSON line, a syslog message body). */
  fromJson(doc: unknown, arrival: Arrival, hint: JsonHint = 'auto', raw?: string, syslog?: SyslogMessage): Normalised {
    const rawText = raw ?? safeStringify(doc);
    const extra: Record<string, JsonValue> = syslog ? { syslog: syslogInfo(syslog) } : {};
    if (!isObject(doc)) return this.unparsed(rawText, 'IT_EVENTS.UNMAPPED_JSON', `expected a JSON object, got ${Array.isArray(doc) ? 'an array' : typeof doc}`, arrival, extra, syslog?.time);
    if (hint === 'ocsf' || (hint === 'auto' && looksLikeOcsf(doc))) {
      const r = ocsfPassthrough(doc, { uid: randomUUID(), logName: 'ocsf' });
      if (!r.ok) return this.unparsed(rawText, 'IT_EVENTS.INVALID_OCSF', r.reason, arrival, extra, syslog?.time);
      r.event.unmapped = { ...(r.event.unmapped ?? {}), receiver: receiverInfo(arrival), ...extra };
      return { event: r.event, parser: 'ocsf' };
    }
    if (hint === 'ecs' || looksLikeEcs(doc)) {
      if (isWindowsLogon(doc)) return this.finish(parseWindowsLogon(doc), 'windows-ecs', { name: 'Microsoft Windows', vendor_name: 'Microsoft' }, rawText, arrival, syslog);
      if (isEcsAlert(doc)) return this.finish(parseEcsAlert(doc), 'ecs-alert', UNKNOWN_PRODUCT, rawText, arrival, syslog);
      if (isEcsAuthentication(doc)) return this.finish(parseEcsAuthentication(doc), 'ecs-authentication', UNKNOWN_PRODUCT, rawText, arrival, syslog);
      // A log line shipped by Filebeat: the line itself may be one a syslog parser knows.
      const line = str(doc, 'message');
      if (line) {
        const m: SyslogMessage = { format: 'rfc3164', facility: 1, severity: 5, msg: line };
        const app = str(doc, 'process.name') ?? str(doc, 'log.syslog.appname');
        const host = str(doc, 'host.name') ?? str(doc, 'host.hostname');
        const time = str(doc, '@timestamp');
        if (app) m.appName = app;
        if (host) m.hostname = host;
        if (time && isoTime.safeParse(time).success) m.time = time;
        const parser = this.parsers.find((p) => p.claims(m)) ?? this.parsers.find((p) => p.recognises(m));
        if (parser) return this.finish(parser.parse(m), parser.name, parser.product, rawText, arrival, m);
      }
      return this.unparsed(rawText, 'IT_EVENTS.UNMAPPED_JSON', 'ECS document that is not a Windows logon, an authentication event, an alert or a log line a parser knows', arrival, extra, str(doc, '@timestamp'));
    }
    return this.unparsed(rawText, 'IT_EVENTS.UNMAPPED_JSON', 'JSON document is neither OCSF (numeric class_uid) nor ECS (@timestamp, ecs.version, event.*)', arrival, extra, syslog?.time);
  }

  /** A class-0 OCSF Base Event holding input that could not be mapped, with the reason. */
  unparsed(raw: string, code: ItEventsErrorCode, reason: string, arrival: Arrival, extra: Record<string, JsonValue> = {}, time?: string, product: Product = UNKNOWN_PRODUCT): Normalised {
    const truncated = raw.length > RAW_MAX;
    const event: ItSecurityEventV1 = {
      uid: randomUUID(),
      ...OCSF.base,
      activity_id: 0,
      time: validTime(time) ?? arrival.receivedAt.toISOString(),
      severity_id: 0,
      metadata: { product, log_name: 'unparsed', version: '1.3.0' },
      raw_data: truncated ? raw.slice(0, RAW_MAX) : raw,
      unmapped: { reason_code: code, reason, ...(truncated ? { raw_truncated_from: raw.length } : {}), receiver: receiverInfo(arrival), ...extra },
    };
    if (time && !validTime(time)) event.metadata.original_time = time;
    return { event, parser: 'none', unparsed: code };
  }

  private finish(result: ParseResult, parser: string, product: Product, raw: string, arrival: Arrival, syslog?: SyslogMessage): Normalised {
    const syslogExtra: Record<string, JsonValue> = syslog ? { syslog: syslogInfo(syslog) } : {};
    if (!result.ok) return this.unparsed(raw, 'IT_EVENTS.UNRECOGNISED_LINE', result.reason, arrival, syslogExtra, syslog?.time, product);
    const { time, originalTime, product: eventProduct, unmapped, message, ...rest }: EventDraft = result.event;
    const eventTime = validTime(time) ?? validTime(syslog?.time) ?? arrival.receivedAt.toISOString();
    const original = originalTime ?? (time && !validTime(time) ? time : syslog?.originalTime);
    const event: ItSecurityEventV1 = {
      uid: randomUUID(),
      ...rest,
      time: eventTime,
      metadata: { product: eventProduct, log_name: parser, version: '1.3.0', ...(original ? { original_time: original } : {}) },
      unmapped: { ...(unmapped ?? {}), receiver: receiverInfo(arrival), ...syslogExtra },
    };
    if (message) event.message = message.length > MESSAGE_MAX ? message.slice(0, MESSAGE_MAX) : message;
    return { event, parser };
  }
}

function validTime(t: string | undefined): string | undefined {
  if (!t || !isoTime.safeParse(t).success) return undefined;
  return t;
}

function receiverInfo(arrival: Arrival): JsonValue {
  const info: Record<string, JsonValue> = { transport: arrival.transport, received_at: arrival.receivedAt.toISOString() };
  if (arrival.peer) {
    info['peer_ip'] = arrival.peer.ip;
    if (arrival.peer.port !== undefined) info['peer_port'] = arrival.peer.port;
  }
  return info;
}

function syslogInfo(m: SyslogMessage): JsonValue {
  const info: Record<string, JsonValue> = { format: m.format, facility: m.facility, severity: m.severity };
  if (m.hostname) info['hostname'] = m.hostname;
  if (m.appName) info['app_name'] = m.appName;
  if (m.procId) info['proc_id'] = m.procId;
  if (m.msgId) info['msg_id'] = m.msgId;
  if (m.structuredData && isJsonValue(m.structuredData)) info['structured_data'] = m.structuredData;
  return info;
}

function safeStringify(doc: unknown): string {
  try {
    return JSON.stringify(doc) ?? String(doc);
  } catch {
    return String(doc);
  }
}
