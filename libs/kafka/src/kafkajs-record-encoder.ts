import { createRequire } from 'node:module';

/**
 * kafkajs 2.2 encodes every produced record into a new `Encoder` of 512 zero-filled bytes. A record
 * of more than 511 bytes (an enriched sample is about 560) then outgrows it while its value is
 * written: a second, 1024-byte buffer is allocated and the first copied into it. For such records
 * the two allocations and the copy were the largest single cost of producing (about 2.6 µs of the
 * enricher's 30 µs per sample). kafkajs is no longer maintained, so the fix is made here: the
 * record encoder of kafkajs's produce request is replaced by one that writes the same bytes into a
 * buffer of exactly the record's size, taken from Node's buffer pool. Records of up to 511 bytes
 * are encoded exactly as kafkajs does (the same 512-byte encoder).
 *
 * Installed by `createKafkaClient`; it takes effect only before kafkajs's produce request module
 * is first loaded (it captures the record encoder then), which happens at the first produce.
 */

/** kafkajs's `Encoder`, as far as the record encoder uses it. */
interface KafkajsEncoder {
  buf: Buffer;
  writeVarInt(value: number): KafkajsEncoder;
  writeInt8(value: number): KafkajsEncoder;
  writeVarLong(value: number | bigint | object): KafkajsEncoder;
  writeVarIntBytes(value: Buffer | string | null | undefined): KafkajsEncoder;
  writeVarIntArray(value: KafkajsEncoder[]): KafkajsEncoder;
}
interface KafkajsEncoderClass {
  new (initialSize?: number): KafkajsEncoder;
  sizeOfVarInt(value: number): number;
  sizeOfVarLong(value: number | bigint | object): number;
  sizeOfVarIntBytes(value: Buffer | string | null | undefined): number;
}
type HeaderValue = Buffer | string | null;
/** The record as kafkajs's produce request passes it. */
export interface KafkajsRecord {
  offsetDelta?: number;
  timestampDelta?: number;
  key?: Buffer | string | null;
  value?: Buffer | string | null;
  headers?: Record<string, HeaderValue | HeaderValue[] | undefined>;
}
export type RecordEncoder = (record: KafkajsRecord) => KafkajsEncoder;

const RECORD_MODULE = './src/protocol/recordBatch/record/v0/index.js';
const PRODUCE_REQUEST_MODULE = './src/protocol/requests/produce/v3/request.js';
/** kafkajs's default encoder size: `new Encoder()` is `new Encoder(511)`, a 512-byte buffer. */
const DEFAULT_ENCODER_BYTES = 511;

const kafkajsRequire = createRequire(require.resolve('kafkajs'));

/** kafkajs's own record encoder (for tests that compare bytes). */
export function kafkajsRecordEncoder(): RecordEncoder {
  return kafkajsRequire(RECORD_MODULE) as RecordEncoder;
}

/** The record encoder that sizes its buffer to the record; the same bytes as kafkajs's. */
export function sizedRecordEncoder(): RecordEncoder {
  const Encoder = kafkajsRequire('./src/protocol/encoder.js') as KafkajsEncoderClass;
  const Header = kafkajsRequire('./src/protocol/recordBatch/header/v0/index.js') as (h: { key: string; value: HeaderValue }) => KafkajsEncoder;
  return ({ offsetDelta = 0, timestampDelta = 0, key, value, headers = {} }) => {
    const headersArray: { key: string; value: HeaderValue }[] = [];
    for (const name of Object.keys(headers)) {
      const v = headers[name];
      if (Array.isArray(v)) for (const item of v) headersArray.push({ key: name, value: item });
      else headersArray.push({ key: name, value: v as HeaderValue });
    }
    let headersSize = Encoder.sizeOfVarInt(headersArray.length);
    for (const h of headersArray) headersSize += Encoder.sizeOfVarIntBytes(h.key) + Encoder.sizeOfVarIntBytes(h.value);
    const sizeOfBody = 1 + Encoder.sizeOfVarLong(timestampDelta) + Encoder.sizeOfVarInt(offsetDelta) + Encoder.sizeOfVarIntBytes(key) + Encoder.sizeOfVarIntBytes(value) + headersSize;
    const size = Encoder.sizeOfVarInt(sizeOfBody) + sizeOfBody;
    let encoder: KafkajsEncoder;
    if (size <= DEFAULT_ENCODER_BYTES) {
      encoder = new Encoder();
    } else {
      // Every byte of [0, size) is written below, and the encoder exposes only what was written.
      encoder = new Encoder(1);
      encoder.buf = Buffer.allocUnsafe(size);
    }
    return encoder
      .writeVarInt(sizeOfBody)
      .writeInt8(0)
      .writeVarLong(timestampDelta)
      .writeVarInt(offsetDelta)
      .writeVarIntBytes(key)
      .writeVarIntBytes(value)
      .writeVarIntArray(headersArray.map(Header));
  };
}

let installed: boolean | undefined;

/**
 * Puts `sizedRecordEncoder` in place of kafkajs's record encoder for produce requests. True when it
 * is (now or before); false when kafkajs's produce request module was loaded first (kafkajs then
 * keeps its own encoder: correct, only slower for large records) or kafkajs is not version 2.2.
 */
export function installSizedRecordEncoder(): boolean {
  if (installed !== undefined) return installed;
  const version = (kafkajsRequire('./package.json') as { version: string }).version;
  const recordPath = kafkajsRequire.resolve(RECORD_MODULE);
  const requestLoaded = kafkajsRequire.resolve(PRODUCE_REQUEST_MODULE) in kafkajsRequire.cache;
  if (!version.startsWith('2.2.') || requestLoaded) return (installed = false);
  kafkajsRequire(RECORD_MODULE);
  const cached = kafkajsRequire.cache[recordPath];
  if (!cached) return (installed = false);
  cached.exports = sizedRecordEncoder();
  return (installed = true);
}
