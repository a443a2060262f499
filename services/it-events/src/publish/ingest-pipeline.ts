import type { ItSecurityEventV1 } from '@weir/contracts';
import type { ItEventsMetrics } from '../it-events.metrics';
import type { Arrival, JsonHint, Normalised, Normaliser, Transport } from '../normalise/normaliser';
import type { EventSink } from './event-sink';

/** A syslog frame's format for the received metric: the header it carried, or `invalid`. */
function syslogFormat(raw: string): string {
  if (/^<\d{1,3}>[1-9]\d{0,2} /.test(raw)) return 'rfc5424';
  if (/^<\d{1,3}>/.test(raw)) return 'rfc3164';
  return 'invalid';
}

/** Normalises inputs, counts them and hands them to the sink; what the receivers call. */
export class IngestPipeline {
  constructor(
    private readonly normaliser: Normaliser,
    private readonly sink: EventSink,
    private readonly metrics: ItEventsMetrics,
  ) {}

  /** One syslog frame from a stream: resolves when accepted (waits while the buffer is full). */
  async syslogFrame(raw: string, arrival: Arrival): Promise<void> {
    this.metrics.received.inc({ transport: arrival.transport, format: syslogFormat(raw) });
    await this.sink.submit(this.count(this.normaliser.fromSyslog(raw, arrival)), arrival.transport);
  }

  /** One UDP datagram: accepted or dropped (counted) right away; UDP cannot wait. */
  syslogDatagram(raw: string, arrival: Arrival): boolean {
    this.metrics.received.inc({ transport: arrival.transport, format: syslogFormat(raw) });
    // A full buffer is checked before parsing: a flood should not also cost the CPU of parsing it.
    if (!this.sink.hasRoom) {
      this.metrics.dropped.inc({ transport: arrival.transport, code: 'IT_EVENTS.BUFFER_FULL' });
      return false;
    }
    return this.sink.offer(this.count(this.normaliser.fromSyslog(raw, arrival)), arrival.transport);
  }

  /** Input that could not be framed but whose bytes are kept (an oversized frame's prefix, a partial frame). */
  async keepUnframed(raw: string, code: 'IT_EVENTS.FRAME_TOO_LARGE' | 'IT_EVENTS.INCOMPLETE_FRAME', reason: string, arrival: Arrival): Promise<void> {
    this.metrics.framingErrors.inc({ transport: arrival.transport, code });
    await this.sink.submit(this.count(this.normaliser.unparsed(raw, code, reason, arrival)), arrival.transport);
  }

  /** Normalises JSON documents (and items that could not be read, as class-0 events) without publishing them. */
  normaliseJson(items: readonly ({ doc: unknown } | { invalid: string; reason: string })[], arrival: Arrival, hint: JsonHint, format: string): ItSecurityEventV1[] {
    return items.map((item) => {
      this.metrics.received.inc({ transport: arrival.transport, format });
      const n = 'doc' in item ? this.normaliser.fromJson(item.doc, arrival, hint) : this.normaliser.unparsed(item.invalid, 'IT_EVENTS.NOT_JSON', item.reason, arrival);
      return this.count(n);
    });
  }

  /** Publishes and waits for Kafka's acknowledgement (HTTP). */
  publishAndWait(events: readonly ItSecurityEventV1[], transport: Transport): Promise<void> {
    return this.sink.publishAndWait(events, transport);
  }

  private count(n: Normalised): ItSecurityEventV1 {
    if (n.unparsed) this.metrics.unparsed.inc({ code: n.unparsed });
    else this.metrics.parsed.inc({ parser: n.parser });
    return n.event;
  }
}
