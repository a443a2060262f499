import { type z } from 'zod';

/** How a topic keeps its data: `delete` by time, or `compact` by key (latest value per key). */
export type TopicCleanupPolicy = 'delete' | 'compact';

/** A Kafka topic: its base name, message schema and how messages are keyed. */
export interface TopicDefinition<S extends z.ZodType = z.ZodType> {
  /** Base name, `<domain>.<entity>[.<stage>].v<major>`; the deployment prefix is added at run time. */
  readonly name: string;
  /** One-line description for docs and the topic catalogue. */
  readonly description: string;
  /** Validates a message; the source of the TypeScript type. */
  readonly schema: S;
  /** The partitioning key; messages with the same key keep their order. */
  readonly key: (message: z.infer<S>) => string;
  /** `compact` for entity topics keyed by id (ERP context), `delete` otherwise. */
  readonly cleanupPolicy: TopicCleanupPolicy;
  /** Partitions to create when the topic is provisioned, unless configured otherwise. */
  readonly defaultPartitions: number;
  /**
   * A fast check for hot topics: true only when `schema` accepts the value and
   * would return an equal object (no unknown keys to strip, no defaults to
   * fill), so decoding can skip the schema; false means "ask the schema",
   * which then accepts, strips or explains. Proved against the schema by
   * tests; never the only check of a rejected value.
   */
  readonly accepts?: (value: unknown) => boolean;
}

/** Declares a topic; fills in defaults so every definition is complete. */
export function defineTopic<S extends z.ZodType>(def: {
  name: string;
  description: string;
  schema: S;
  key: (message: z.infer<S>) => string;
  cleanupPolicy?: TopicCleanupPolicy;
  defaultPartitions?: number;
  accepts?: (value: unknown) => boolean;
}): TopicDefinition<S> {
  if (!/^[a-z0-9-]+(\.[a-z0-9-]+)+\.v[0-9]+$/.test(def.name)) {
    throw new Error(`CONTRACTS.BAD_TOPIC_NAME: "${def.name}" is not <domain>.<entity>[.<stage>].v<major>`);
  }
  return { cleanupPolicy: 'delete', defaultPartitions: 6, ...def };
}

/** The message type a topic carries. */
export type MessageOf<T extends TopicDefinition> = z.infer<T['schema']>;

/** Suffix of every topic's dead-letter companion. */
export const DLQ_SUFFIX = '.dlq';

/** The full topic name for a deployment: `<prefix><name>`, e.g. `plant1.ot.telemetry.raw.v1`. */
export function topicName(topic: TopicDefinition | string, prefix = ''): string {
  const name = typeof topic === 'string' ? topic : topic.name;
  return `${prefix}${name}`;
}

/** The dead-letter topic that receives messages of `topic` that failed validation. */
export function dlqTopicName(topic: TopicDefinition | string, prefix = ''): string {
  return `${topicName(topic, prefix)}${DLQ_SUFFIX}`;
}
