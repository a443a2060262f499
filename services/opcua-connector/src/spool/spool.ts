import type { JsonValue, MessageOf, TopicDefinition } from '@weir/contracts';

/** What the spool holds right now (the part of `StoreAndForwardProducer.stats()` the connector uses). */
export interface SpoolStats {
  /** Messages appended and not yet acknowledged by Kafka. */
  bufferedRecords: number;
  /** Log bytes of those messages. */
  bufferedBytes: number;
  /** Bytes of log on disk. */
  diskBytes: number;
}

/**
 * Where the connector puts what it read: durable once `appendMany` resolves
 * (the point at which the server's data counts as acknowledged), forwarded
 * to Kafka in order in the background, with a key/value state written in
 * the same frame as the messages it goes with, so that after a crash the
 * next sequence number and the per-node watermarks match exactly what the
 * log holds. `StoreAndForwardProducer` of `@weir/kafka` is the implementation.
 */
export interface Spool {
  appendMany<D extends TopicDefinition>(topic: D, messages: Iterable<MessageOf<D>>, options?: { state?: Readonly<Record<string, JsonValue | undefined>> }): Promise<void>;
  getState(key: string): JsonValue | undefined;
  stats(): SpoolStats;
  /** Waits until everything appended so far is acknowledged by Kafka. */
  flush(): Promise<void>;
  /** Stops accepting, writes what was accepted; what Kafka has not acknowledged stays on disk for the next start. */
  close(): Promise<void>;
}
