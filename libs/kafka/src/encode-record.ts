import { encode, type MessageOf, type TopicDefinition } from '@weir/contracts';
import type { IHeaders } from 'kafkajs';
import type { MessageHeaders } from './batching';
import { errorMessage, KafkaError } from './kafka-error';

/** A message ready for kafkajs: its partition key, validated JSON value and optional headers. */
export interface EncodedRecord {
  key: string;
  value: Buffer;
  headers?: IHeaders;
}

/**
 * Validates and serialises a message for `topic` and computes its key; an
 * invalid message is a producer bug and fails with `KAFKA.INVALID_MESSAGE`
 * before anything is sent.
 */
export function encodeRecord<D extends TopicDefinition>(topic: D, message: MessageOf<D>, headers?: MessageHeaders): EncodedRecord {
  try {
    const value = encode(topic, message);
    return { key: topic.key(message), value, ...(headers ? { headers: headers as IHeaders } : {}) };
  } catch (err) {
    throw new KafkaError('KAFKA.INVALID_MESSAGE', `${topic.name}: ${errorMessage(err)}`, { cause: err });
  }
}
