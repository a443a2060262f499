import { Counter, Gauge, type Registry } from '@weir/observability';

/** The metrics of it-events, on the service's registry. */
export class ItEventsMetrics {
  /** Inputs received: syslog frames/datagrams and JSON documents, by transport and format. */
  readonly received: Counter<'transport' | 'format'>;
  /** Events mapped by a parser. */
  readonly parsed: Counter<'parser'>;
  /** Inputs kept as class-0 events, by reason code. */
  readonly unparsed: Counter<'code'>;
  /** Inputs not published: UDP datagrams refused while the buffer was full, events abandoned at shutdown. */
  readonly dropped: Counter<'transport' | 'code'>;
  /** Framing problems on TCP/TLS streams (oversized frames, framing lost). */
  readonly framingErrors: Counter<'transport' | 'code'>;
  /** Open TCP/TLS connections. */
  readonly connections: Gauge<'transport'>;
  /** Times a connection stopped reading because the publish buffer was full. */
  readonly pauses: Counter<'transport'>;
  /** Events accepted for Kafka and not yet acknowledged. */
  readonly pending: Gauge;
  /** Kafka deliveries that failed and were retried (syslog) or answered 503 (HTTP). */
  readonly publishFailures: Counter<'transport'>;
  /** TLS handshakes refused (bad or missing client certificate, protocol errors). */
  readonly tlsErrors: Counter;
  /** HTTP requests by status code. */
  readonly httpRequests: Counter<'status'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.received = new Counter({ name: 'weir_it_events_received_total', help: 'Inputs received (syslog messages, JSON documents)', labelNames: ['transport', 'format'], registers });
    this.parsed = new Counter({ name: 'weir_it_events_parsed_total', help: 'Events mapped to OCSF by a parser', labelNames: ['parser'], registers });
    this.unparsed = new Counter({ name: 'weir_it_events_unparsed_total', help: 'Inputs kept as OCSF Base Events (class 0) with the reason', labelNames: ['code'], registers });
    this.dropped = new Counter({ name: 'weir_it_events_dropped_total', help: 'Inputs that were not published', labelNames: ['transport', 'code'], registers });
    this.framingErrors = new Counter({ name: 'weir_it_events_framing_errors_total', help: 'Framing problems on stream transports', labelNames: ['transport', 'code'], registers });
    this.connections = new Gauge({ name: 'weir_it_events_connections', help: 'Open syslog connections', labelNames: ['transport'], registers });
    this.pauses = new Counter({ name: 'weir_it_events_backpressure_pauses_total', help: 'Times a connection waited for room in the publish buffer', labelNames: ['transport'], registers });
    this.pending = new Gauge({ name: 'weir_it_events_pending_events', help: 'Events accepted for Kafka and not yet acknowledged', registers });
    this.publishFailures = new Counter({ name: 'weir_it_events_publish_failures_total', help: 'Events whose Kafka delivery failed (retried for syslog, 503 for HTTP)', labelNames: ['transport'], registers });
    this.tlsErrors = new Counter({ name: 'weir_it_events_tls_errors_total', help: 'TLS handshakes that failed', registers });
    this.httpRequests = new Counter({ name: 'weir_it_events_http_requests_total', help: 'HTTP ingest requests by status', labelNames: ['status'], registers });
  }
}
