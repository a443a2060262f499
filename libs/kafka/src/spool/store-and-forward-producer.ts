import { mkdir } from 'node:fs/promises';
import { join, resolve as resolvePath } from 'node:path';
import type { JsonValue, MessageOf, TopicDefinition } from '@weir/contracts';
import { Registry, type Counter, type Gauge, type HealthCheck, type Histogram, type Logger } from '@weir/observability';
import { backoffDelay, sleep, type BackoffOptions } from '../backoff';
import type { MessageHeaders } from '../batching';
import type { BatchingProducer } from '../batching-producer';
import { encodeRecord } from '../encode-record';
import { errorMessage } from '../kafka-error';
import { counter, gauge, histogram } from '../metrics';
import { AckMarker, encodeSnapshot, ensureMeta, lockDirectory, readSnapshot, writeSnapshot } from './durable-files';
import { buildFrame, encodeState, frameEntryCount, sealFrame, type EncodedState, type LogEntry, type MessageEntry, type MessageInput } from './frame';
import { SegmentLog, type FrameToWrite, type FsyncMode, type ReadPosition } from './segment-log';
import { SpoolError } from './spool-error';

export type { FsyncMode } from './segment-log';

/** What to do when the spool holds `maxBytes`: make appenders wait, or drop the oldest segment. */
export type SpoolFullPolicy = 'block' | 'drop-oldest';

/** Records dropped because the spool was full (`onFull: 'drop-oldest'`); enough to record a gap or backfill it. */
export interface SpoolDrop {
  /** Messages dropped (never sent to Kafka, as far as the spool knows). */
  records: number;
  /** Bytes of log they took. */
  bytes: number;
  /** LSN range of the dropped entries. */
  fromLsn: number;
  toLsn: number;
  /** When the oldest and newest dropped messages were appended: the interval to backfill from history. */
  firstAppendedAt: Date;
  lastAppendedAt: Date;
  /** Dropped messages per full topic name. */
  byTopic: Record<string, number>;
  /**
   * How many of `records` had already been handed to the producer and were awaiting Kafka's
   * answer: those may still arrive (a batch in flight cannot be recalled). The rest never will.
   */
  inFlight: number;
}

/** Options of `StoreAndForwardProducer.open`. */
export interface StoreAndForwardOptions {
  /** Spool directory, one per connector instance; created if missing. */
  dir: string;
  /** A `BatchingProducer` the caller owns (connects and closes). Give the spool one of its own: see the README on order. */
  producer: BatchingProducer;
  logger: Logger;
  /** Registry for the spool metrics; a private one when absent. */
  metrics?: Registry;
  /** Label of this spool's metrics, logs and health check. Default `main`. */
  name?: string;
  /** Bound on the bytes of log on disk. Default 1 GiB; at least 2 × `segmentBytes`. */
  maxBytes?: number;
  /** Size of one segment file; the log is trimmed a segment at a time, and one append call must fit in one. Default 16 MiB. */
  segmentBytes?: number;
  /**
   * `batch` (default): group commit, one fdatasync for all appends that arrived while the previous
   * one ran, before any of them resolves. `always`: one fdatasync per append call. `never`: appends
   * resolve once written to the page cache (survives a killed process, not a power loss).
   */
  fsync?: FsyncMode;
  /** `block` (default): appends wait for room (back-pressure). `drop-oldest`: the oldest segment is dropped and reported to `onDrop`. */
  onFull?: SpoolFullPolicy;
  /** Called (synchronously) for every drop with `onFull: 'drop-oldest'`; record the gap or backfill it. */
  onDrop?: (drop: SpoolDrop) => void;
  /** Most messages per forwarded batch; keep it at most the producer's `maxBatchMessages`. Default 10,000. */
  forwardBatchMessages?: number;
  /** Most bytes (`recordBytes` estimate) per forwarded batch; keep it at most the producer's `maxBatchBytes`. Default 1 MiB. */
  forwardBatchBytes?: number;
  /** Backoff between forwarding attempts after a failed batch. Default 200 ms doubling to 5 s. */
  retry?: BackoffOptions;
  /** How long `close()` waits for the batch in flight before leaving it to the next start. Default 10,000 ms. */
  closeTimeoutMs?: number;
  /** Fill ratio (disk bytes / maxBytes) above which the readiness check fails. Default 0.9. */
  unreadyAboveFill?: number;
}

/** Per-call options of `append`, `appendMany`. */
export interface SpoolAppendOptions {
  /** Headers to attach to each message (correlation ids, trace context). */
  headers?: MessageHeaders;
  /**
   * State updates written in the same frame as the messages: after a crash either the messages
   * and these updates are both recovered or neither is. `undefined` deletes a key.
   */
  state?: Readonly<Record<string, JsonValue | undefined>>;
  /** Aborts waiting for room when the spool is full (`onFull: 'block'`); the append then fails with `SPOOL.FULL`. */
  signal?: AbortSignal;
}

/** A snapshot of the spool's condition. */
export interface SpoolStats {
  /** Messages appended and not yet acknowledged by Kafka (nor dropped). */
  bufferedRecords: number;
  /** Log bytes of those entries. */
  bufferedBytes: number;
  /** Bytes of log on disk, including acknowledged entries not yet trimmed (at most one segment's worth). */
  diskBytes: number;
  maxBytes: number;
  /** When the oldest buffered message was appended; undefined when nothing is buffered. */
  oldestBufferedAt?: Date;
  /** True while the forwarder runs and its last attempt did not fail. */
  forwarding: boolean;
  /** The last forwarding or I/O error, until an attempt succeeds. */
  lastError?: { message: string; code?: string; at: Date };
  /** Messages dropped since open (`onFull: 'drop-oldest'`). */
  droppedRecords: number;
}

interface BuiltFrame {
  buf: Buffer;
  messages: number;
  state: EncodedState[];
}

interface PendingFrame extends FrameToWrite {
  state: EncodedState[];
  resolve: () => void;
  reject: (err: Error) => void;
}

interface Waiter {
  bytes: number;
  admit: () => void;
  refuse: (err: Error) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

interface FlushWaiter {
  lsn: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

const noop = (): void => undefined;
const READ_CHUNK_BYTES = 1024 * 1024;
const WRITE_BATCH_BYTES = 4 * 1024 * 1024;
const ACK_SYNC_MS = 100;

/**
 * A disk-backed store-and-forward producer for OT-side connectors.
 *
 * `append` validates a message, writes it to a local log and resolves once it is durable;
 * a background forwarder sends the log to Kafka in append order through the given
 * `BatchingProducer` and trims it as Kafka acknowledges. While Kafka is unreachable the log
 * grows up to `maxBytes` and appends then wait (or the oldest data is dropped and reported);
 * after a crash `open` recovers the log, cuts a torn last write, and resends what Kafka had
 * not acknowledged. A small key/value state lives in the same log, so it is recovered
 * consistently with the messages. Guarantees and on-disk format: libs/kafka/README.md.
 */
export class StoreAndForwardProducer {
  private readonly logger: Logger;
  private readonly producer: BatchingProducer;
  private readonly name: string;
  private readonly maxBytes: number;
  private readonly segmentBytes: number;
  private readonly onFull: SpoolFullPolicy;
  private readonly onDrop: ((drop: SpoolDrop) => void) | undefined;
  private readonly forwardBatchMessages: number;
  private readonly forwardBatchBytes: number;
  private readonly retry: BackoffOptions;
  private readonly closeTimeoutMs: number;
  private readonly unreadyAboveFill: number;
  private readonly fsyncMode: FsyncMode;

  // Log positions (LSNs): assigned ≥ durable ≥ acked. Entries up to `ackedLsn` are done.
  private nextLsn: number;
  private lastAssignedLsn: number;
  private durableLsn: number;
  private ackedLsn: number;

  // State as the caller sees it (every update applied at append), and as of `durableLsn`.
  private readonly current: Map<string, JsonValue>;
  private readonly durableState: Map<string, JsonValue>;
  private snapshotLsn: number;

  private unackedMessages: number;
  private unackedBytes: number;
  private droppedRecords = 0;

  // State updates set but not yet in a frame: the next append of this tick takes them along.
  private pendingState = new Map<string, EncodedState>();
  private pendingStateWaiters: { resolve: () => void; reject: (err: Error) => void }[] = [];
  private pendingStateScheduled = false;

  // Writer.
  private readonly writeQueue: PendingFrame[] = [];
  private writing: Promise<void> | undefined;
  private reservedBytes = 0;
  private readonly waiters: Waiter[] = [];
  private failed: SpoolError | undefined;

  // Forwarder.
  private readPos: ReadPosition;
  private lastReadLsn: number;
  private readQueue: LogEntry[] = [];
  private readHead = 0;
  private window: LogEntry[] = [];
  private windowDone: Uint8Array = new Uint8Array(0);
  private sending = false;
  private dataSeq = 0;
  private dataWaiter: (() => void) | undefined;
  private forwarder: Promise<void> | undefined;
  private filling: Promise<boolean> | undefined;
  private forwardingOk = true;
  private lastError: { message: string; code?: string; at: Date } | undefined;
  private readonly abort = new AbortController();
  private stopping = false;
  private recoveredOldestAt: number | undefined;
  private readFailure: string | undefined;

  // Maintenance (trim, drop) and shutdown.
  private segmentOps: Promise<void> = Promise.resolve();
  private trimScheduled = false;
  private readonly flushWaiters: FlushWaiter[] = [];
  private ackSyncTimer: NodeJS.Timeout | undefined;
  private readonly ageTimer: NodeJS.Timeout;
  private closed = false;
  private filesClosed = false;
  private closing: Promise<void> | undefined;

  private readonly m: SpoolMetrics;
  private readonly label: { spool: string };

  private constructor(
    private readonly dir: string,
    private readonly log: SegmentLog,
    private readonly ack: AckMarker,
    private readonly unlock: () => Promise<void>,
    options: StoreAndForwardOptions,
    recovered: { nextLsn: number; lastLsn: number; ackedLsn: number; state: Map<string, JsonValue>; snapshotLsn: number; unackedMessages: number; unackedBytes: number; oldestAt: number | undefined },
    metrics: SpoolMetrics,
  ) {
    this.name = options.name ?? 'main';
    this.logger = options.logger.child({ component: 'spool', spool: this.name });
    this.producer = options.producer;
    this.maxBytes = options.maxBytes ?? DEFAULTS.maxBytes;
    this.segmentBytes = options.segmentBytes ?? DEFAULTS.segmentBytes;
    this.onFull = options.onFull ?? 'block';
    this.onDrop = options.onDrop;
    this.forwardBatchMessages = options.forwardBatchMessages ?? 10_000;
    this.forwardBatchBytes = options.forwardBatchBytes ?? 1024 * 1024;
    this.retry = options.retry ?? { initialMs: 200, maxMs: 5_000 };
    this.closeTimeoutMs = options.closeTimeoutMs ?? 10_000;
    this.unreadyAboveFill = options.unreadyAboveFill ?? 0.9;
    this.fsyncMode = options.fsync ?? 'batch';
    this.nextLsn = recovered.nextLsn;
    this.lastAssignedLsn = recovered.lastLsn;
    this.durableLsn = recovered.lastLsn;
    this.ackedLsn = recovered.ackedLsn;
    this.current = recovered.state;
    this.durableState = new Map(recovered.state);
    this.snapshotLsn = recovered.snapshotLsn;
    this.unackedMessages = recovered.unackedMessages;
    this.unackedBytes = recovered.unackedBytes;
    this.recoveredOldestAt = recovered.oldestAt;
    this.readPos = { baseLsn: log.all[0]!.baseLsn, offset: 0 };
    this.lastReadLsn = recovered.ackedLsn;
    this.label = { spool: this.name };
    this.m = metrics;
    this.ageTimer = setInterval(() => this.updateGauges(), 1000);
    this.ageTimer.unref();
  }

  /**
   * Opens (or creates) the spool in `options.dir`: takes the directory lock, recovers the log
   * (a torn last write is cut off; damage elsewhere fails with `SPOOL.CORRUPT`), restores the
   * state, and starts forwarding whatever Kafka has not acknowledged.
   */
  static async open(options: StoreAndForwardOptions): Promise<StoreAndForwardProducer> {
    const maxBytes = options.maxBytes ?? DEFAULTS.maxBytes;
    const segmentBytes = options.segmentBytes ?? DEFAULTS.segmentBytes;
    const fsync = options.fsync ?? 'batch';
    if (!Number.isInteger(segmentBytes) || segmentBytes < 4096) throw new RangeError('segmentBytes must be an integer of at least 4096');
    if (!Number.isFinite(maxBytes) || maxBytes < 2 * segmentBytes) throw new RangeError('maxBytes must be at least 2 × segmentBytes, so a full spool can always make room for one more segment');
    if (!['batch', 'always', 'never'].includes(fsync)) throw new RangeError(`fsync must be batch, always or never, not ${String(fsync)}`);
    const dir = resolvePath(options.dir);
    await mkdir(dir, { recursive: true });
    const unlock = await lockDirectory(dir);
    const logger = options.logger.child({ component: 'spool', spool: options.name ?? 'main' });
    let ack: AckMarker | undefined;
    let log: SegmentLog | undefined;
    try {
      await ensureMeta(dir);
      const registry = options.metrics ?? new Registry();
      const metrics = createMetrics(registry);
      const label = { spool: options.name ?? 'main' };
      ack = AckMarker.open(join(dir, 'ack'));
      const acked = ack.acked;
      const snapshot = await readSnapshot(dir);
      const state = snapshot.state;
      let unackedMessages = 0;
      let unackedBytes = 0;
      let oldestAt: number | undefined;
      const recovered = await SegmentLog.recover(
        dir,
        { segmentBytes, fsync, gapToleratedThrough: Math.max(acked, snapshot.lsn), onFsync: (s) => metrics.fsync.observe(label, s) },
        (frame) => {
          for (const e of frame.entries) {
            if (e.kind === 'state' && e.lsn > snapshot.lsn) {
              if (e.value === undefined) state.delete(e.key);
              else state.set(e.key, e.value);
            }
            if (e.lsn > acked) {
              unackedBytes += e.bytes;
              if (e.kind === 'message') {
                unackedMessages++;
                oldestAt ??= e.appendedAt;
              }
            }
          }
        },
      );
      log = recovered.log;
      const report = recovered.report;
      let ackedLsn = acked;
      const firstBase = log.all[0]?.baseLsn;
      if (firstBase !== undefined && firstBase - 1 > ackedLsn) {
        logger.warn({ ackedLsn, firstLsn: firstBase }, 'the log starts after the acknowledged position; entries before it were removed');
        ackedLsn = firstBase - 1;
      }
      if (ackedLsn > report.lastLsn && report.lastLsn > 0) {
        logger.warn({ ackedLsn, lastLsn: report.lastLsn }, 'the ack marker is ahead of the log (a power loss with fsync "never"?); LSNs continue after it');
      }
      // LSNs are never reused: an LSN the marker or the snapshot has seen may exist in Kafka.
      const nextLsn = Math.max(report.lastLsn, ackedLsn, snapshot.lsn) + 1;
      await log.startWriting(nextLsn);
      if (report.discardedBytes > 0) metrics.torn.inc(label, report.discardedBytes);
      const spool = new StoreAndForwardProducer(
        dir,
        log,
        ack,
        unlock,
        options,
        { nextLsn, lastLsn: report.lastLsn, ackedLsn, state, snapshotLsn: snapshot.lsn, unackedMessages, unackedBytes, oldestAt },
        metrics,
      );
      logger.info(
        { dir, segments: report.segments, frames: report.frames, lastLsn: report.lastLsn, ackedLsn, bufferedRecords: unackedMessages, stateKeys: state.size, discardedBytes: report.discardedBytes, discardedReason: report.discardedReason },
        report.discardedBytes > 0 ? 'spool recovered; a torn last write was cut off' : 'spool opened',
      );
      spool.start();
      return spool;
    } catch (err) {
      await log?.close().catch(noop);
      await ack?.close().catch(noop);
      await unlock();
      throw err;
    }
  }

  /** Validates a message, writes it durably, and resolves once it is on disk (waiting first while the spool is full). */
  append<D extends TopicDefinition>(topic: D, message: MessageOf<D>, options?: SpoolAppendOptions): Promise<void> {
    return this.appendMany(topic, [message], options);
  }

  /**
   * Appends messages of one topic with one write and one fsync; resolves once all are on disk.
   * All are validated first: an invalid one (`KAFKA.INVALID_MESSAGE`) rejects the call and
   * nothing is appended. A call that fits in one segment is one frame, all or nothing after a
   * crash; a larger one (only without `state`) is split into frames that are each all or nothing.
   */
  async appendMany<D extends TopicDefinition>(topic: D, messages: Iterable<MessageOf<D>>, options: SpoolAppendOptions = {}): Promise<void> {
    this.assertWritable();
    const topicName = this.producer.topicName(topic);
    const inputs: MessageInput[] = [];
    for (const message of messages) {
      const r = encodeRecord(topic, message);
      inputs.push(options.headers ? { topic: topicName, key: r.key, value: r.value, headers: options.headers } : { topic: topicName, key: r.key, value: r.value });
    }
    const own = options.state ? Object.entries(options.state).map(([k, v]) => encodeState(k, v)) : [];
    if (inputs.length === 0 && own.length === 0) return;
    // Everything is validated: from here on the call is placed in the log (or the spool is failed).
    const carried = this.takePendingState();
    for (const s of own) this.setCurrent(s);
    let frames: BuiltFrame[];
    try {
      frames = this.buildFrames(mergeState(carried.state, own), inputs, own.length > 0);
    } catch (err) {
      carried.reject(err as Error);
      throw err;
    }
    const done = this.enqueueFrames(frames, options.signal);
    done.then(carried.resolve, carried.reject);
    await done;
    this.m.appended.inc({ ...this.label, topic: topicName }, inputs.length);
  }

  /**
   * Stores `value` under `key` (undefined deletes it); resolves once durable. Updates set in
   * the same tick before an `append`/`appendMany` call are written in that call's frame, so
   * after a crash they are recovered exactly when its messages are; otherwise they are
   * written in a frame of their own at the end of the tick.
   */
  setState(key: string, value: JsonValue | undefined): Promise<void> {
    try {
      this.assertWritable();
      const encoded = encodeState(key, value);
      this.setCurrent(encoded);
      this.pendingState.delete(key);
      this.pendingState.set(key, encoded);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    const done = new Promise<void>((resolve, reject) => this.pendingStateWaiters.push({ resolve, reject }));
    if (!this.pendingStateScheduled) {
      this.pendingStateScheduled = true;
      queueMicrotask(() => {
        this.pendingStateScheduled = false;
        this.writePendingState();
      });
    }
    return done;
  }

  /** The value of a state key as last set (including updates not yet durable). */
  getState(key: string): JsonValue | undefined {
    return this.current.get(key);
  }

  /** A copy of the whole state as last set. */
  state(): Record<string, JsonValue> {
    return Object.fromEntries(this.current);
  }

  /**
   * Resolves once everything appended before the call is acknowledged by Kafka (or dropped).
   * Waits as long as Kafka is unreachable; rejects with `SPOOL.CLOSED` if the spool closes first.
   */
  flush(): Promise<void> {
    if (this.closed) return Promise.reject(new SpoolError('SPOOL.CLOSED', 'the spool is closed'));
    const target = this.lastAssignedLsn;
    if (this.ackedLsn >= target) return Promise.resolve();
    return new Promise((resolve, reject) => this.flushWaiters.push({ lsn: target, resolve, reject }));
  }

  /** The spool's condition: buffered records and bytes, oldest buffered, forwarding, last error. */
  stats(): SpoolStats {
    const oldest = this.oldestBufferedAt();
    return {
      bufferedRecords: this.unackedMessages,
      bufferedBytes: this.unackedBytes,
      diskBytes: this.log.diskBytes,
      maxBytes: this.maxBytes,
      ...(oldest !== undefined ? { oldestBufferedAt: new Date(oldest) } : {}),
      forwarding: this.forwarder !== undefined && !this.stopping && this.forwardingOk,
      ...(this.lastError ? { lastError: { ...this.lastError } } : {}),
      droppedRecords: this.droppedRecords,
    };
  }

  /** Readiness: fails when the log fills more than `unreadyAboveFill` of `maxBytes`, after an I/O failure, or once closed. */
  healthCheck(): HealthCheck {
    return {
      name: `spool-${this.name}`,
      kind: 'readiness',
      check: () => {
        if (this.failed) return { ok: false, detail: this.failed.message };
        if (this.closed) return { ok: false, detail: 'closed' };
        const fill = this.log.diskBytes / this.maxBytes;
        const forwarding = this.forwardingOk ? 'forwarding' : `retrying: ${this.lastError?.message ?? 'unknown error'}`;
        const detail = `${this.unackedMessages} records buffered, ${Math.round(fill * 100)}% of ${this.maxBytes} bytes; ${forwarding}`;
        return { ok: fill <= this.unreadyAboveFill, detail };
      },
    };
  }

  /**
   * Liveness: fails after a write or fsync failed, or while the forwarder cannot read its own
   * log; a restart recovers from what is on disk (or refuses a damaged log with SPOOL.CORRUPT).
   */
  livenessCheck(): HealthCheck {
    return {
      name: `spool-${this.name}-log`,
      kind: 'liveness',
      check: () => {
        if (this.failed) return { ok: false, detail: this.failed.message };
        if (this.readFailure) return { ok: false, detail: `reading the log failed: ${this.readFailure}` };
        return { ok: true };
      },
    };
  }

  /**
   * Refuses new appends (and fails those waiting for room with `SPOOL.CLOSED`), writes what was
   * accepted, lets the batch in flight finish (up to `closeTimeoutMs`), and closes the files.
   * What Kafka has not acknowledged stays on disk for the next start. Does not close the producer.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  // ---------------------------------------------------------------- appending

  private assertWritable(): void {
    if (this.failed) throw this.failed;
    if (this.closed) throw new SpoolError('SPOOL.CLOSED', 'the spool is closed');
  }

  private setCurrent(s: EncodedState): void {
    if (s.value === undefined) this.current.delete(s.key);
    else this.current.set(s.key, s.value);
  }

  /** Takes the state set since the last frame, with the settlement of its `setState` promises. */
  private takePendingState(): { state: EncodedState[]; resolve: () => void; reject: (err: Error) => void } {
    const state = [...this.pendingState.values()];
    const waiters = this.pendingStateWaiters;
    this.pendingState = new Map();
    this.pendingStateWaiters = [];
    return { state, resolve: () => waiters.forEach((w) => w.resolve()), reject: (err) => waiters.forEach((w) => w.reject(err)) };
  }

  private writePendingState(): void {
    const carried = this.takePendingState();
    if (carried.state.length === 0) return;
    let frames: BuiltFrame[];
    try {
      frames = this.buildFrames(carried.state, [], true);
    } catch (err) {
      carried.reject(err as Error);
      return;
    }
    this.enqueueFrames(frames).then(carried.resolve, carried.reject);
  }

  /**
   * One frame when it fits in a segment. Otherwise, when the state may travel apart from the
   * messages (it came from `setState`), the state goes first in a frame of its own and the
   * messages are split: a crash can then cost a gap in sequence numbers, never their reuse.
   */
  private buildFrames(state: EncodedState[], messages: MessageInput[], stateMustBeAtomic: boolean): BuiltFrame[] {
    const now = Date.now();
    const whole = buildFrame(state, messages, now);
    if (whole.length <= this.segmentBytes) return [{ buf: whole, messages: messages.length, state }];
    if (stateMustBeAtomic && state.length > 0) throw new SpoolError('SPOOL.TOO_LARGE', `an append with state must fit in one segment (${this.segmentBytes} bytes); this one takes ${whole.length}`);
    const frames: BuiltFrame[] = [];
    if (state.length > 0) frames.push(...this.buildFrames(state, [], true));
    // Too large for one frame: split. Rare (a connector appends one publish response at a time).
    let start = 0;
    while (start < messages.length) {
      let end = start + 1;
      let frame = buildFrame([], messages.slice(start, end), now);
      if (frame.length > this.segmentBytes) throw new SpoolError('SPOOL.TOO_LARGE', `a message of ${frame.length} bytes does not fit in a segment (${this.segmentBytes} bytes)`);
      // Grow by halves of what is left, then shrink: O(log n) frame builds per frame.
      let step = Math.max(1, messages.length - end);
      while (step > 0 && end < messages.length) {
        const tryEnd = Math.min(messages.length, end + step);
        const candidate = buildFrame([], messages.slice(start, tryEnd), now);
        if (candidate.length <= this.segmentBytes) {
          end = tryEnd;
          frame = candidate;
        } else {
          step = Math.floor(step / 2);
        }
      }
      frames.push({ buf: frame, messages: end - start, state: [] });
      start = end;
    }
    return frames;
  }

  private async enqueueFrames(frames: BuiltFrame[], signal?: AbortSignal): Promise<void> {
    const commits: Promise<void>[] = [];
    for (const f of frames) {
      // Synchronous when there is room, so LSN order is call order; FIFO behind waiters otherwise.
      const wait = this.admit(f.buf.length, signal);
      if (wait) await wait;
      commits.push(this.place(f));
    }
    await Promise.all(commits);
  }

  /** Assigns the frame its LSNs and queues it for the writer; resolves once it is durable. */
  private place(f: BuiltFrame): Promise<void> {
    const entries = frameEntryCount(f.buf);
    const baseLsn = this.nextLsn;
    this.nextLsn += entries;
    this.lastAssignedLsn = baseLsn + entries - 1;
    sealFrame(f.buf, baseLsn);
    const maxStateLsn = f.state.length > 0 ? baseLsn + f.state.length - 1 : 0;
    this.unackedMessages += f.messages;
    this.unackedBytes += f.buf.length;
    const committed = new Promise<void>((resolve, reject) => {
      this.writeQueue.push({ buf: f.buf, baseLsn, lastLsn: this.lastAssignedLsn, maxStateLsn, state: f.state, resolve, reject });
    });
    // Observed here so a later frame's failure cannot leave this rejection unhandled.
    committed.catch(noop);
    this.kickWriter();
    return committed;
  }

  private hasRoom(bytes: number): boolean {
    if (this.onFull === 'drop-oldest') {
      // Disk room is made by the writer (dropping); this only bounds memory of frames not yet written.
      return this.reservedBytes === 0 || this.reservedBytes + bytes <= this.maxBytes / 2;
    }
    const used = this.log.diskBytes + this.reservedBytes;
    return used === 0 || used + bytes <= this.maxBytes;
  }

  /** Reserves room for `bytes`: undefined when granted now, else a promise of it (FIFO). */
  private admit(bytes: number, signal: AbortSignal | undefined): Promise<void> | undefined {
    if (this.failed) throw this.failed;
    if (this.closed) throw new SpoolError('SPOOL.CLOSED', 'the spool is closed');
    if (this.waiters.length === 0 && this.hasRoom(bytes)) {
      this.reservedBytes += bytes;
      return undefined;
    }
    if (signal?.aborted) throw new SpoolError('SPOOL.FULL', 'the spool is full and the append was aborted');
    return new Promise<void>((admit, refuse) => {
      const waiter: Waiter = { bytes, admit, refuse, signal, onAbort: undefined };
      if (signal) {
        waiter.onAbort = () => {
          const i = this.waiters.indexOf(waiter);
          if (i >= 0) this.waiters.splice(i, 1);
          refuse(new SpoolError('SPOOL.FULL', `the spool is full (${this.log.diskBytes} of ${this.maxBytes} bytes) and the append was aborted while waiting`));
          // The next waiter may fit where this one did not.
          this.admitWaiters();
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.waiters.push(waiter);
    });
  }

  // Room is reserved before a waiter wakes, so an append arriving in between cannot take it.
  private admitWaiters(): void {
    while (this.waiters.length > 0 && this.hasRoom(this.waiters[0]!.bytes)) {
      const w = this.waiters.shift()!;
      if (w.onAbort) w.signal?.removeEventListener('abort', w.onAbort);
      this.reservedBytes += w.bytes;
      w.admit();
    }
  }

  private refuseWaiters(err: Error): void {
    for (const w of this.waiters.splice(0)) {
      if (w.onAbort) w.signal?.removeEventListener('abort', w.onAbort);
      w.refuse(err);
    }
  }

  // ---------------------------------------------------------------- writer

  private kickWriter(): void {
    if (this.writing || this.writeQueue.length === 0) return;
    this.writing = this.writeLoop().finally(() => {
      this.writing = undefined;
      // Frames queued while the loop was finishing.
      if (!this.failed) this.kickWriter();
    });
  }

  private takeWriteBatch(): PendingFrame[] {
    if (this.fsyncMode === 'always') return this.writeQueue.splice(0, 1);
    let bytes = 0;
    let n = 0;
    while (n < this.writeQueue.length && (n === 0 || bytes + this.writeQueue[n]!.buf.length <= WRITE_BATCH_BYTES)) bytes += this.writeQueue[n++]!.buf.length;
    return this.writeQueue.splice(0, n);
  }

  // Group commit: everything queued while the previous write + fsync ran goes in the next one.
  private async writeLoop(): Promise<void> {
    while (this.writeQueue.length > 0 && !this.failed) {
      const batch = this.takeWriteBatch();
      let bytes = 0;
      for (const f of batch) bytes += f.buf.length;
      try {
        if (this.onFull === 'drop-oldest') await this.dropForRoom(bytes);
        await this.log.write(batch);
      } catch (err) {
        this.fail(err, batch);
        return;
      }
      this.reservedBytes -= bytes;
      for (const f of batch) {
        for (const s of f.state) {
          if (s.value === undefined) this.durableState.delete(s.key);
          else this.durableState.set(s.key, s.value);
        }
      }
      this.durableLsn = batch.at(-1)!.lastLsn;
      this.updateGauges(false);
      for (const f of batch) f.resolve();
      this.wakeForwarder();
      this.admitWaiters();
    }
  }

  private fail(err: unknown, batch: PendingFrame[]): void {
    const error = err instanceof SpoolError ? err : new SpoolError('SPOOL.IO', `writing the log failed: ${errorMessage(err)}`, { cause: err });
    this.failed = error;
    this.noteError(error);
    this.logger.error({ err: errorMessage(err) }, 'spool write failed; no more appends are taken (restart to recover from disk)');
    for (const f of batch) f.reject(error);
    for (const f of this.writeQueue.splice(0)) f.reject(error);
    this.refuseWaiters(error);
    // What was not written can never be acknowledged: flushes waiting for it would wait forever.
    for (let i = this.flushWaiters.length - 1; i >= 0; i--) if (this.flushWaiters[i]!.lsn > this.durableLsn) this.flushWaiters.splice(i, 1)[0]!.reject(error);
  }

  // ---------------------------------------------------------------- forwarder

  private start(): void {
    this.updateGauges();
    this.forwarder = this.forwardLoop();
    this.scheduleTrim();
  }

  private wakeForwarder(): void {
    this.dataSeq++;
    const w = this.dataWaiter;
    this.dataWaiter = undefined;
    w?.();
  }

  private async forwardLoop(): Promise<void> {
    let attempt = 0;
    while (!this.stopping) {
      try {
        const window = await this.nextWindow();
        if (!window) return;
        this.readFailure = undefined;
        await this.forwardWindow(window);
        attempt = 0;
      } catch (err) {
        // Reading the log failed (not Kafka): report, back off, and read again.
        this.readFailure = errorMessage(err);
        this.noteError(err);
        this.m.errors.inc(this.label);
        this.logger.error({ err: errorMessage(err) }, 'reading the spool log failed; retrying');
        await sleep(backoffDelay(++attempt, this.retry), this.abort.signal);
      }
    }
  }

  private queued(): number {
    return this.readQueue.length - this.readHead;
  }

  private async nextWindow(): Promise<LogEntry[] | undefined> {
    for (;;) {
      if (this.stopping) return undefined;
      const seenSeq = this.dataSeq;
      const read = this.queued() < this.forwardBatchMessages ? await this.fill() : false;
      // Fill the window from the log before sending, up to the batch limits.
      if (read && this.queued() < this.forwardBatchMessages) continue;
      const window = this.takeWindow();
      if (window.length > 0) return window;
      if (read) continue;
      await this.waitForData(seenSeq);
    }
  }

  /**
   * Reads the next chunk of the log into the read queue; true if it found frames. One read at
   * a time: the forwarder also calls it while a batch is in flight, to have the next one ready.
   */
  private fill(): Promise<boolean> {
    this.filling ??= this.readChunk().finally(() => {
      this.filling = undefined;
    });
    return this.filling;
  }

  private async readChunk(): Promise<boolean> {
    for (;;) {
      const r = await this.log.read(this.readPos, READ_CHUNK_BYTES);
      if (r === 'gone') {
        // Our segment was dropped (onFull: drop-oldest) or trimmed: continue at the head.
        this.readPos = { baseLsn: this.log.all[0]!.baseLsn, offset: 0 };
        continue;
      }
      this.readPos = r.next;
      for (const frame of r.frames) {
        for (const e of frame.entries) {
          if (e.lsn <= this.lastReadLsn || e.lsn <= this.ackedLsn) continue;
          this.readQueue.push(e);
          this.lastReadLsn = e.lsn;
        }
      }
      return r.frames.length > 0;
    }
  }

  private waitForData(seenSeq: number): Promise<void> {
    if (this.dataSeq !== seenSeq || this.stopping) return Promise.resolve();
    return new Promise((resolve) => (this.dataWaiter = resolve));
  }

  private takeWindow(): LogEntry[] {
    const window: LogEntry[] = [];
    let messages = 0;
    let bytes = 0;
    while (this.readHead < this.readQueue.length) {
      const e = this.readQueue[this.readHead]!;
      if (e.lsn <= this.ackedLsn) {
        this.readHead++;
        continue;
      }
      if (e.kind === 'message') {
        if (messages >= this.forwardBatchMessages || (messages > 0 && bytes + e.wireBytes > this.forwardBatchBytes)) break;
        messages++;
        bytes += e.wireBytes;
      }
      window.push(e);
      this.readHead++;
    }
    if (this.readHead > 10_000 && this.readHead * 2 > this.readQueue.length) {
      this.readQueue = this.readQueue.slice(this.readHead);
      this.readHead = 0;
    }
    return window;
  }

  /**
   * Sends one window through the producer and waits for Kafka. A window is sized to be one
   * producer batch, and only one is in flight, so a failed batch is resent before anything
   * after it: per-key order holds across failures. Retries with backoff until every message
   * is acknowledged (or dropped), or the spool stops.
   */
  private async forwardWindow(window: LogEntry[]): Promise<void> {
    this.window = window;
    const done = (this.windowDone = new Uint8Array(window.length));
    let ackIndex = 0;
    let attempt = 0;
    for (;;) {
      const todo: number[] = [];
      for (let i = ackIndex; i < window.length; i++) {
        const e = window[i]!;
        if (e.kind === 'message' && !done[i] && e.lsn > this.ackedLsn) todo.push(i);
      }
      let error: unknown;
      if (todo.length > 0) {
        const deliveries: Promise<void>[] = [];
        this.sending = true;
        try {
          for (const i of todo) {
            const e = window[i] as MessageEntry;
            deliveries.push((await this.producer.enqueueRaw(e.topic, e.headers ? { key: e.key, value: e.value, headers: e.headers } : { key: e.key, value: e.value })).delivered);
          }
        } catch (err) {
          // The producer refused (closed by its owner?): what it accepted still settles below.
          error = err;
        }
        // Send now rather than after the producer's linger: the window is complete.
        if (deliveries.length > 0) this.producer.flush().catch(noop);
        // Read ahead while Kafka works; a read error shows up again when the next window is taken.
        if (this.queued() < this.forwardBatchMessages) this.fill().catch(noop);
        const results = await Promise.allSettled(deliveries);
        this.sending = false;
        const perTopic = new Map<string, number>();
        results.forEach((r, k) => {
          const i = todo[k]!;
          if (r.status === 'fulfilled') {
            done[i] = 1;
            const topic = (window[i] as MessageEntry).topic;
            perTopic.set(topic, (perTopic.get(topic) ?? 0) + 1);
          } else {
            error ??= r.reason;
          }
        });
        for (const [topic, n] of perTopic) this.m.forwarded.inc({ ...this.label, topic }, n);
      }
      ackIndex = this.advanceAck(window, done, ackIndex);
      if (ackIndex >= window.length) {
        // A window that ended only because its records were dropped says nothing about Kafka.
        if (todo.length > 0 && error === undefined) {
          if (!this.forwardingOk) this.logger.info({ ackedLsn: this.ackedLsn }, 'forwarding resumed');
          this.forwardingOk = true;
          this.lastError = undefined;
        }
        this.window = [];
        return;
      }
      this.noteError(error ?? new Error('a batch was not acknowledged'));
      this.m.errors.inc(this.label);
      if (this.forwardingOk) this.logger.warn({ err: errorMessage(error), pending: window.length - ackIndex }, 'forwarding to Kafka failed; records stay in the spool and are retried');
      this.forwardingOk = false;
      if (this.stopping) return;
      await sleep(backoffDelay(++attempt, this.retry), this.abort.signal);
      if (this.stopping) return;
    }
  }

  /** Moves the acknowledged position over the window's done prefix; returns the new prefix end. */
  private advanceAck(window: LogEntry[], done: Uint8Array, from: number): number {
    let i = from;
    let to = this.ackedLsn;
    let messages = 0;
    let bytes = 0;
    for (; i < window.length; i++) {
      const e = window[i]!;
      if (e.lsn <= this.ackedLsn) continue; // dropped meanwhile; already accounted
      if (e.kind === 'message' && !done[i]) break;
      to = e.lsn;
      bytes += e.bytes;
      if (e.kind === 'message') messages++;
    }
    if (to > this.ackedLsn) this.acknowledge(to, messages, bytes);
    return i;
  }

  private acknowledge(lsn: number, messages: number, bytes: number): void {
    if (this.filesClosed) return;
    this.ackedLsn = lsn;
    this.unackedMessages -= messages;
    this.unackedBytes -= bytes;
    this.recoveredOldestAt = undefined;
    try {
      this.ack.write(lsn);
    } catch (err) {
      // Only costs duplicates after a restart; forwarding goes on.
      this.logger.error({ err: errorMessage(err) }, 'writing the ack marker failed');
    }
    this.ackSyncTimer ??= setTimeout(() => {
      this.ackSyncTimer = undefined;
      this.ack.sync().catch((err: unknown) => this.logger.error({ err: errorMessage(err) }, 'syncing the ack marker failed'));
    }, ACK_SYNC_MS);
    this.updateGauges(false);
    while (this.flushWaiters.length > 0 && this.flushWaiters[0]!.lsn <= lsn) this.flushWaiters.shift()!.resolve();
    // Flush targets are not always in order (one taken while another waited); sweep the rest too.
    for (let i = this.flushWaiters.length - 1; i >= 0; i--) if (this.flushWaiters[i]!.lsn <= lsn) this.flushWaiters.splice(i, 1)[0]!.resolve();
    this.scheduleTrim();
  }

  private noteError(err: unknown): void {
    const code = typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
    this.lastError = { message: errorMessage(err), ...(code ? { code } : {}), at: new Date() };
  }

  // ---------------------------------------------------------------- trimming and dropping

  // Segment removal (trim after acks, drop when full) runs one at a time.
  private serial(op: () => Promise<void>): Promise<void> {
    const run = this.segmentOps.then(op);
    this.segmentOps = run.catch(noop);
    return run;
  }

  private scheduleTrim(): void {
    const first = this.log.all[0];
    if (this.trimScheduled || this.filesClosed || !first || this.log.all.length < 2 || first.lastLsn > this.ackedLsn) return;
    this.trimScheduled = true;
    this.serial(async () => {
      this.trimScheduled = false;
      await this.trim();
    }).catch((err: unknown) => this.logger.error({ err: errorMessage(err) }, 'trimming the spool failed; retried after the next acknowledgement'));
  }

  private async trim(): Promise<void> {
    let synced = false;
    for (;;) {
      const seg = this.log.all[0];
      if (this.filesClosed || !seg || this.log.all.length < 2 || seg.lastLsn > this.ackedLsn) break;
      if (seg.maxStateLsn > this.snapshotLsn) await this.snapshot();
      // The marker must say "done" durably before the entries disappear, or recovery would see a gap.
      if (!synced) {
        await this.ack.sync();
        synced = true;
      }
      await this.log.removeOldest();
    }
    this.updateGauges();
    this.admitWaiters();
  }

  private async snapshot(): Promise<void> {
    const lsn = this.durableLsn;
    await writeSnapshot(this.dir, encodeSnapshot(lsn, this.durableState));
    this.snapshotLsn = lsn;
  }

  /** With `onFull: 'drop-oldest'`: drops the oldest segments until `bytes` more fit under `maxBytes`. */
  private dropForRoom(bytes: number): Promise<void> {
    if (this.log.diskBytes + bytes <= this.maxBytes) return Promise.resolve();
    return this.serial(async () => {
      while (this.log.diskBytes + bytes > this.maxBytes && this.log.all.length > 1) {
        const seg = this.log.all[0]!;
        if (seg.lastLsn <= this.ackedLsn) {
          if (seg.maxStateLsn > this.snapshotLsn) await this.snapshot();
          await this.ack.sync();
          await this.log.removeOldest();
          continue;
        }
        const frames = await this.log.readSegment(seg);
        const drop: SpoolDrop = { records: 0, bytes: 0, fromLsn: this.ackedLsn + 1, toLsn: seg.lastLsn, firstAppendedAt: new Date(0), lastAppendedAt: new Date(0), byTopic: {}, inFlight: 0 };
        if (this.sending) {
          this.window.forEach((e, i) => {
            if (e.kind === 'message' && e.lsn > this.ackedLsn && e.lsn <= seg.lastLsn && !this.windowDone[i]) drop.inFlight++;
          });
        }
        let first: number | undefined;
        let last = 0;
        for (const f of frames) {
          for (const e of f.entries) {
            if (e.lsn <= this.ackedLsn) continue;
            drop.bytes += e.bytes;
            if (e.kind !== 'message') continue;
            drop.records++;
            drop.byTopic[e.topic] = (drop.byTopic[e.topic] ?? 0) + 1;
            first ??= e.appendedAt;
            last = e.appendedAt;
          }
        }
        drop.firstAppendedAt = new Date(first ?? 0);
        drop.lastAppendedAt = new Date(last);
        if (seg.maxStateLsn > this.snapshotLsn) await this.snapshot();
        // Dropped entries count as done: marked durably before they disappear.
        this.acknowledge(seg.lastLsn, drop.records, drop.bytes);
        await this.ack.sync();
        await this.log.removeOldest();
        this.droppedRecords += drop.records;
        this.m.dropped.inc(this.label, drop.records);
        this.logger.error({ records: drop.records, inFlight: drop.inFlight, fromLsn: drop.fromLsn, toLsn: drop.toLsn, from: drop.firstAppendedAt, to: drop.lastAppendedAt }, 'spool full: dropped the oldest segment (onFull: drop-oldest)');
        this.wakeForwarder();
        try {
          this.onDrop?.(drop);
        } catch (err) {
          this.logger.error({ err: errorMessage(err) }, 'onDrop callback threw');
        }
      }
      this.updateGauges();
    });
  }

  // ---------------------------------------------------------------- stats and shutdown

  private oldestBufferedAt(): number | undefined {
    if (this.unackedMessages === 0) return undefined;
    for (const e of this.window) if (e.kind === 'message' && e.lsn > this.ackedLsn) return e.appendedAt;
    for (let i = this.readHead; i < this.readQueue.length; i++) {
      const e = this.readQueue[i]!;
      if (e.kind === 'message' && e.lsn > this.ackedLsn) return e.appendedAt;
    }
    return this.recoveredOldestAt;
  }

  private updateGauges(withAge = true): void {
    this.m.bufferedRecords.set(this.label, this.unackedMessages);
    this.m.bufferedBytes.set(this.label, this.unackedBytes);
    this.m.diskBytes.set(this.label, this.log.diskBytes);
    // The age scans the window; the 1 s timer keeps it fresh enough.
    if (!withAge) return;
    const oldest = this.oldestBufferedAt();
    this.m.oldestAge.set(this.label, oldest === undefined ? 0 : Math.max(0, (Date.now() - oldest) / 1000));
  }

  private async shutdown(): Promise<void> {
    // State set just before close() is still written (it was accepted), then nothing more is.
    this.writePendingState();
    this.closed = true;
    this.refuseWaiters(new SpoolError('SPOOL.CLOSED', 'the spool closed while the append waited for room'));
    while (this.writing) await this.writing;
    this.stopping = true;
    this.abort.abort();
    this.wakeForwarder();
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      this.forwarder!.then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), this.closeTimeoutMs);
        timer.unref();
      }),
    ]);
    clearTimeout(timer);
    if (!finished) this.logger.warn({ ackedLsn: this.ackedLsn }, 'the batch in flight was not acknowledged before close; it is sent again on the next start');
    await this.segmentOps;
    clearInterval(this.ageTimer);
    clearTimeout(this.ackSyncTimer);
    this.updateGauges();
    this.filesClosed = true;
    const closedErr = new SpoolError('SPOOL.CLOSED', 'the spool closed before everything was acknowledged');
    for (const w of this.flushWaiters.splice(0)) w.reject(closedErr);
    try {
      await this.ack.close();
      await this.log.close();
    } finally {
      await this.unlock();
    }
    this.logger.info({ bufferedRecords: this.unackedMessages, ackedLsn: this.ackedLsn }, 'spool closed');
  }
}

interface SpoolMetrics {
  bufferedRecords: Gauge<'spool'>;
  bufferedBytes: Gauge<'spool'>;
  diskBytes: Gauge<'spool'>;
  oldestAge: Gauge<'spool'>;
  appended: Counter<'spool' | 'topic'>;
  forwarded: Counter<'spool' | 'topic'>;
  errors: Counter<'spool'>;
  dropped: Counter<'spool'>;
  fsync: Histogram<'spool'>;
  torn: Counter<'spool'>;
}

const DEFAULTS = { maxBytes: 1024 * 1024 * 1024, segmentBytes: 16 * 1024 * 1024 };

const FSYNC_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** State updates in frame order, a key set twice keeping its last value. */
function mergeState(first: EncodedState[], then: EncodedState[]): EncodedState[] {
  if (first.length === 0) return then;
  if (then.length === 0) return first;
  const merged = new Map<string, EncodedState>();
  for (const s of [...first, ...then]) {
    merged.delete(s.key);
    merged.set(s.key, s);
  }
  return [...merged.values()];
}

function createMetrics(registry: Registry): SpoolMetrics {
  const l = ['spool'] as const;
  return {
    bufferedRecords: gauge(registry, 'weir_spool_buffered_records', 'Messages appended to the spool and not yet acknowledged by Kafka', l),
    bufferedBytes: gauge(registry, 'weir_spool_buffered_bytes', 'Log bytes of the entries not yet acknowledged', l),
    diskBytes: gauge(registry, 'weir_spool_disk_bytes', 'Bytes of spool log on disk (bounded by maxBytes)', l),
    oldestAge: gauge(registry, 'weir_spool_oldest_buffered_age_seconds', 'Age of the oldest message not yet acknowledged; 0 when none', l),
    appended: counter(registry, 'weir_spool_appended_records_total', 'Messages appended (durable)', ['spool', 'topic']),
    forwarded: counter(registry, 'weir_spool_forwarded_records_total', 'Messages forwarded and acknowledged by Kafka', ['spool', 'topic']),
    errors: counter(registry, 'weir_spool_forward_errors_total', 'Failed forwarding attempts (each retried)', l),
    dropped: counter(registry, 'weir_spool_dropped_records_total', 'Messages dropped because the spool was full (onFull: drop-oldest)', l),
    fsync: histogram(registry, 'weir_spool_fsync_duration_seconds', 'Duration of one log fdatasync (one group commit)', l, FSYNC_BUCKETS),
    torn: counter(registry, 'weir_spool_recovery_discarded_bytes_total', 'Bytes of a torn last write cut off at recovery', l),
  };
}
