import { crc32 } from 'node:zlib';
import { isJsonValue, type JsonValue } from '@weir/contracts';
import { recordBytes, type MessageHeaders } from '../batching';
import { SpoolError } from './spool-error';

// On-disk format of one frame (all integers little-endian):
//
//   u32 bodyLength | u32 crc32(body) | body
//   body = u8 version (1) | u8 flags (0) | u16 reserved (0)
//        | u32 baseLsn high | u32 baseLsn low | f64 appendedAt (ms since the epoch)
//        | u32 entryCount | entries...
//   entry = u8 1 (message) | u16 topicLen | topic | u16 keyLen | key | u32 valueLen | value
//                         | u16 headerCount | (u16 nameLen | name | u32 valueLen | value)*
//         | u8 2 (state set) | u16 keyLen | key | u32 jsonLen | JSON value
//         | u8 3 (state delete) | u16 keyLen | key
//
// One frame is one append call, so a call is all or nothing after a crash: the CRC covers the
// whole body, and recovery keeps a frame only if all of it is there. Entry i of a frame has the
// log sequence number (LSN) baseLsn + i; LSNs increase by one across frames and segments.

/** Bytes of the length and CRC before a frame's body. */
export const FRAME_HEADER_BYTES = 8;
/** Fixed bytes at the start of a body, before the entries. */
const BODY_FIXED_BYTES = 24;
/** Bytes a frame takes besides its entries. */
export const FRAME_OVERHEAD_BYTES = FRAME_HEADER_BYTES + BODY_FIXED_BYTES;
const FORMAT_VERSION = 1;
const TWO_32 = 2 ** 32;
const MAX_U16 = 0xffff;

const KIND_MESSAGE = 1;
const KIND_STATE_SET = 2;
const KIND_STATE_DELETE = 3;

/** A validated message to append: full topic name, partition key, JSON value, headers. */
export interface MessageInput {
  topic: string;
  key: string;
  value: Buffer;
  headers?: MessageHeaders;
}

/** A state update to append; `value` undefined deletes the key. */
export interface StateInput {
  key: string;
  value: JsonValue | undefined;
}

/** A message entry as read back from the log. */
export interface MessageEntry {
  kind: 'message';
  lsn: number;
  /** Bytes of this entry in the log (the first entry of a frame also carries the frame overhead). */
  bytes: number;
  /** Estimated bytes on the wire (`recordBytes`), for sizing producer batches. */
  wireBytes: number;
  appendedAt: number;
  topic: string;
  key: string;
  value: Buffer;
  headers?: Record<string, Buffer>;
}

/** A state entry as read back from the log. */
export interface StateEntry {
  kind: 'state';
  lsn: number;
  bytes: number;
  appendedAt: number;
  key: string;
  value: JsonValue | undefined;
}

/** One entry of a decoded frame. */
export type LogEntry = MessageEntry | StateEntry;

/** A decoded frame. */
export interface DecodedFrame {
  baseLsn: number;
  appendedAt: number;
  /** Total bytes of the frame, header included. */
  bytes: number;
  entries: LogEntry[];
}

/** The outcome of decoding at a position: a frame, not enough bytes yet, or damage. */
export type DecodeFrameResult = { status: 'ok'; frame: DecodedFrame } | { status: 'incomplete'; needed: number } | { status: 'corrupt'; reason: string };

/** Encoded size of a state key; keys are short identifiers, so a u16 length is plenty. */
function checkedLength(text: string, what: string): number {
  const n = Buffer.byteLength(text);
  if (n > MAX_U16) throw new SpoolError('SPOOL.TOO_LARGE', `${what} of ${n} bytes is longer than ${MAX_U16}`);
  return n;
}

/** Bytes of one message entry in a frame. */
export function messageEntryBytes(m: MessageInput, topicBytes = Buffer.byteLength(m.topic)): number {
  let n = 1 + 2 + topicBytes + 2 + checkedLength(m.key, 'a message key') + 4 + m.value.length + 2;
  if (m.headers) {
    for (const [name, v] of Object.entries(m.headers)) n += 2 + checkedLength(name, 'a header name') + 4 + (typeof v === 'string' ? Buffer.byteLength(v) : v.length);
  }
  return n;
}

/** A state update serialised for a frame. */
export interface EncodedState {
  key: string;
  keyBytes: number;
  json: Buffer | undefined;
  /** The value as recovery will read it back (a copy: later changes to the caller's object do not leak in). */
  value: JsonValue | undefined;
}

/** Validates and serialises a state update; throws `SPOOL.INVALID_STATE`. */
export function encodeState(key: string, value: JsonValue | undefined): EncodedState {
  if (typeof key !== 'string' || key.length === 0) throw new SpoolError('SPOOL.INVALID_STATE', 'a state key must be a non-empty string');
  const keyBytes = Buffer.byteLength(key);
  if (keyBytes > 1024) throw new SpoolError('SPOOL.INVALID_STATE', `state key of ${keyBytes} bytes is longer than 1024`);
  if (value !== undefined && !isJsonValue(value)) throw new SpoolError('SPOOL.INVALID_STATE', `state value of "${key}" is not a JSON value`);
  if (value === undefined) return { key, keyBytes, json: undefined, value: undefined };
  const text = JSON.stringify(value);
  return { key, keyBytes, json: Buffer.from(text), value: JSON.parse(text) as JsonValue };
}

/** Bytes of one state entry in a frame. */
export function stateEntryBytes(s: EncodedState): number {
  return 1 + 2 + s.keyBytes + (s.json ? 4 + s.json.length : 0);
}

/**
 * Builds a frame from state updates and messages (state first, so their LSNs come first).
 * The LSN and CRC are filled in by `sealFrame` once the frame's place in the log is known.
 */
export function buildFrame(state: readonly EncodedState[], messages: readonly MessageInput[], appendedAt: number): Buffer {
  const topicBytes = new Map<string, number>();
  let size = FRAME_OVERHEAD_BYTES;
  for (const s of state) size += stateEntryBytes(s);
  for (const m of messages) {
    let tb = topicBytes.get(m.topic);
    if (tb === undefined) topicBytes.set(m.topic, (tb = checkedLength(m.topic, 'a topic name')));
    size += messageEntryBytes(m, tb);
  }
  const buf = Buffer.allocUnsafe(size);
  buf.writeUInt32LE(size - FRAME_HEADER_BYTES, 0);
  buf.writeUInt32LE(0, 4);
  buf.writeUInt8(FORMAT_VERSION, 8);
  buf.writeUInt8(0, 9);
  buf.writeUInt16LE(0, 10);
  buf.writeUInt32LE(0, 12);
  buf.writeUInt32LE(0, 16);
  buf.writeDoubleLE(appendedAt, 20);
  buf.writeUInt32LE(state.length + messages.length, 28);
  let o = FRAME_OVERHEAD_BYTES;
  for (const s of state) {
    buf.writeUInt8(s.json ? KIND_STATE_SET : KIND_STATE_DELETE, o);
    buf.writeUInt16LE(s.keyBytes, o + 1);
    o += 3 + buf.write(s.key, o + 3, 'utf8');
    if (s.json) {
      buf.writeUInt32LE(s.json.length, o);
      o += 4 + s.json.copy(buf, o + 4);
    }
  }
  for (const m of messages) {
    buf.writeUInt8(KIND_MESSAGE, o);
    buf.writeUInt16LE(topicBytes.get(m.topic)!, o + 1);
    o += 3;
    o += buf.write(m.topic, o, 'utf8');
    const keyBytes = Buffer.byteLength(m.key);
    buf.writeUInt16LE(keyBytes, o);
    o += 2 + buf.write(m.key, o + 2, 'utf8');
    buf.writeUInt32LE(m.value.length, o);
    o += 4 + m.value.copy(buf, o + 4);
    const headers = m.headers ? Object.entries(m.headers) : [];
    buf.writeUInt16LE(headers.length, o);
    o += 2;
    for (const [name, v] of headers) {
      const nameBytes = Buffer.byteLength(name);
      buf.writeUInt16LE(nameBytes, o);
      o += 2 + buf.write(name, o + 2, 'utf8');
      const value = typeof v === 'string' ? Buffer.from(v) : v;
      buf.writeUInt32LE(value.length, o);
      o += 4 + value.copy(buf, o + 4);
    }
  }
  if (o !== size) throw new Error(`SPOOL.BUG: frame size ${size} but wrote ${o} bytes`);
  return buf;
}

/** Writes the frame's base LSN and its CRC; the frame is then ready to be written. */
export function sealFrame(frame: Buffer, baseLsn: number): void {
  frame.writeUInt32LE(Math.floor(baseLsn / TWO_32), 12);
  frame.writeUInt32LE(baseLsn % TWO_32, 16);
  frame.writeUInt32LE(crc32(frame.subarray(FRAME_HEADER_BYTES)), 4);
}

/** Number of entries of a built frame. */
export function frameEntryCount(frame: Buffer): number {
  return frame.readUInt32LE(28);
}

/**
 * Decodes the frame at `offset` of `buf` (which ends where the file's readable bytes end).
 * `expectedLsn`, when given, must be the frame's base LSN; anything else is damage.
 * Message values and header values are views into `buf`, not copies.
 */
export function decodeFrame(buf: Buffer, offset: number, expectedLsn?: number): DecodeFrameResult {
  const available = buf.length - offset;
  if (available < FRAME_HEADER_BYTES) return { status: 'incomplete', needed: FRAME_HEADER_BYTES };
  const bodyLength = buf.readUInt32LE(offset);
  if (bodyLength < BODY_FIXED_BYTES) return { status: 'corrupt', reason: `frame body length ${bodyLength} is below the minimum ${BODY_FIXED_BYTES}` };
  const total = FRAME_HEADER_BYTES + bodyLength;
  if (available < total) return { status: 'incomplete', needed: total };
  const body = buf.subarray(offset + FRAME_HEADER_BYTES, offset + total);
  const crc = buf.readUInt32LE(offset + 4);
  if (crc32(body) !== crc) return { status: 'corrupt', reason: 'CRC mismatch' };
  const version = body.readUInt8(0);
  if (version !== FORMAT_VERSION) return { status: 'corrupt', reason: `unknown frame version ${version}` };
  const baseLsn = body.readUInt32LE(4) * TWO_32 + body.readUInt32LE(8);
  if (expectedLsn !== undefined && baseLsn !== expectedLsn) return { status: 'corrupt', reason: `frame LSN ${baseLsn} where ${expectedLsn} was expected` };
  const appendedAt = body.readDoubleLE(12);
  const count = body.readUInt32LE(20);
  const entries: LogEntry[] = [];
  let o = BODY_FIXED_BYTES;
  try {
    for (let i = 0; i < count; i++) {
      const start = o;
      const kind = body.readUInt8(o);
      const keyOrTopicLen = body.readUInt16LE(o + 1);
      o += 3;
      if (o + keyOrTopicLen > body.length) throw new RangeError('entry beyond the frame');
      const first = i === 0 ? FRAME_OVERHEAD_BYTES : 0;
      if (kind === KIND_MESSAGE) {
        const topic = body.toString('utf8', o, o + keyOrTopicLen);
        o += keyOrTopicLen;
        const keyLen = body.readUInt16LE(o);
        o += 2;
        const key = body.toString('utf8', o, o + keyLen);
        o += keyLen;
        const valueLen = body.readUInt32LE(o);
        o += 4;
        if (o + valueLen > body.length) throw new RangeError('value beyond the frame');
        const value = body.subarray(o, o + valueLen);
        o += valueLen;
        const headerCount = body.readUInt16LE(o);
        o += 2;
        let headers: Record<string, Buffer> | undefined;
        for (let h = 0; h < headerCount; h++) {
          const nameLen = body.readUInt16LE(o);
          const name = body.toString('utf8', o + 2, o + 2 + nameLen);
          o += 2 + nameLen;
          const vLen = body.readUInt32LE(o);
          o += 4;
          if (o + vLen > body.length) throw new RangeError('header beyond the frame');
          (headers ??= {})[name] = body.subarray(o, o + vLen);
          o += vLen;
        }
        const entry: MessageEntry = { kind: 'message', lsn: baseLsn + i, bytes: o - start + first, wireBytes: recordBytes(key, value, headers), appendedAt, topic, key, value };
        if (headers) entry.headers = headers;
        entries.push(entry);
      } else if (kind === KIND_STATE_SET || kind === KIND_STATE_DELETE) {
        const key = body.toString('utf8', o, o + keyOrTopicLen);
        o += keyOrTopicLen;
        let value: JsonValue | undefined;
        if (kind === KIND_STATE_SET) {
          const jsonLen = body.readUInt32LE(o);
          o += 4;
          if (o + jsonLen > body.length) throw new RangeError('state value beyond the frame');
          value = JSON.parse(body.toString('utf8', o, o + jsonLen)) as JsonValue;
          o += jsonLen;
        }
        entries.push({ kind: 'state', lsn: baseLsn + i, bytes: o - start + first, appendedAt, key, value });
      } else {
        throw new RangeError(`unknown entry kind ${kind}`);
      }
    }
  } catch (err) {
    // The CRC matched, so this is not a torn write but a frame this code did not write.
    return { status: 'corrupt', reason: `undecodable entry: ${(err as Error).message}` };
  }
  if (o !== body.length) return { status: 'corrupt', reason: `${body.length - o} bytes after the last entry` };
  return { status: 'ok', frame: { baseLsn, appendedAt, bytes: total, entries } };
}
