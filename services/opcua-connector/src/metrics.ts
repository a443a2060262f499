import { Counter, Gauge, type Registry } from '@weir/observability';

/** The connector's own metrics (the Kafka producer adds `weir_kafka_producer_*`). */
export interface ConnectorMetrics {
  /** Monitored items by state: `ok` (being monitored) or `failed` (refused, retried). */
  items: Gauge<'source' | 'state'>;
  /** Value notifications received from the server; rate() gives notifications/s. */
  notifications: Counter<'source'>;
  /** Samples handed to the spool, by kind (`live`, `backfill`, `heartbeat`). */
  samples: Counter<'source' | 'kind'>;
  /** Events handed to the spool, by kind (`alarm`, `audit`, `model-change`, `connection`, `gap`). */
  events: Counter<'source' | 'kind'>;
  /** Samples received but not yet durable in the spool (the queue depth). */
  pending: Gauge<'source'>;
  /** Bytes and messages in the spool not yet acknowledged by Kafka (the store-and-forward buffer). */
  spoolBytes: Gauge;
  spoolMessages: Gauge;
  /** 1 while the source has an open session. */
  connected: Gauge<'source'>;
  /** Sessions re-opened after a loss. */
  reconnects: Counter<'source'>;
  /** Intervals recorded as gaps (per node, or per source when many nodes share the reason). */
  gaps: Counter<'source'>;
  /** Times the subscriptions were paused because the spool fell behind. */
  backpressure: Counter<'source'>;
  /** Values the server flagged with the Overflow bit (it dropped values before them). */
  overflows: Counter<'source'>;
}

/** Registers the connector metrics in `registry`. */
export function createConnectorMetrics(registry: Registry): ConnectorMetrics {
  const registers = [registry];
  return {
    items: new Gauge({ name: 'weir_opcua_monitored_items', help: 'Monitored items by state (ok = monitored, failed = refused by the server, retried)', labelNames: ['source', 'state'], registers }),
    notifications: new Counter({ name: 'weir_opcua_notifications_total', help: 'Value notifications received from the server', labelNames: ['source'], registers }),
    samples: new Counter({ name: 'weir_opcua_samples_total', help: 'Samples handed to the spool by kind (live, backfill, heartbeat)', labelNames: ['source', 'kind'], registers }),
    events: new Counter({ name: 'weir_opcua_events_total', help: 'Events handed to the spool by kind', labelNames: ['source', 'kind'], registers }),
    pending: new Gauge({ name: 'weir_opcua_pending_samples', help: 'Samples received but not yet durable in the spool', labelNames: ['source'], registers }),
    spoolBytes: new Gauge({ name: 'weir_opcua_spool_bytes', help: 'Bytes in the store-and-forward spool not yet acknowledged by Kafka', registers }),
    spoolMessages: new Gauge({ name: 'weir_opcua_spool_messages', help: 'Messages in the store-and-forward spool not yet acknowledged by Kafka', registers }),
    connected: new Gauge({ name: 'weir_opcua_connected', help: '1 while the source has an open session', labelNames: ['source'], registers }),
    reconnects: new Counter({ name: 'weir_opcua_reconnects_total', help: 'Sessions re-opened after a loss', labelNames: ['source'], registers }),
    gaps: new Counter({ name: 'weir_opcua_gaps_total', help: 'Intervals recorded as gaps', labelNames: ['source'], registers }),
    backpressure: new Counter({ name: 'weir_opcua_backpressure_total', help: 'Times publishing was paused because the spool fell behind', labelNames: ['source'], registers }),
    overflows: new Counter({ name: 'weir_opcua_overflows_total', help: 'Values flagged with the Overflow bit: the server dropped values before them (read back from history, else recorded as gaps)', labelNames: ['source'], registers }),
  };
}
