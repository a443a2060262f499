import type { JsonValue } from '@weir/contracts';

/** One value of one node as the pipeline carries it (times in ms since 1970). */
export interface NodeSample {
  value: JsonValue;
  dataType: string;
  status: number;
  sourceTime: number;
  serverTime?: number;
}

/** Why a sample is emitted: a live change, a value read back from history, or a heartbeat repeat. */
export type SampleKind = 'live' | 'backfill' | 'heartbeat';

/** A sample to emit and why. */
export interface Emission {
  sample: NodeSample;
  kind: SampleKind;
}

/**
 * The delivery state of one node across subscriptions, reconnections and
 * restarts. It decides which values to emit so that the series in Kafka holds
 * every value once, in order:
 *
 * - the watermark is the source time of the newest value emitted (kept in
 *   the spool state, so it survives restarts);
 * - after an item is (re)created, the server's first value is the current
 *   one: it is dropped when it is not newer than the watermark (it was sent
 *   before the link broke);
 * - while the missed interval is read back from history, live values are
 *   held; afterwards history values newer than the watermark go out first,
 *   then the held ones that are still newer;
 * - when the server says it dropped values (the Overflow bit) or publishing
 *   was paused, live values are held the same way while the interval after
 *   the watermark is read back.
 */
export class NodeTracker {
  /** Source time (ms) of the newest value emitted; undefined before the first. */
  watermark: number | undefined;
  /** The last value the server reported (emitted or not), for heartbeats. */
  lastValue: NodeSample | undefined;
  /** When a sample of this node was last emitted (wall clock, ms), for heartbeats. */
  lastEmitAt = 0;
  private firstAfterCreate = false;
  private skipNext = false;
  private holding = false;
  private held: NodeSample[] = [];
  /** Values were dropped upstream while a read-back was already under way: read back again after it. */
  private lossWhileHolding = false;

  constructor(
    readonly key: string,
    watermark: number | undefined,
    private readonly skipFirst: boolean,
  ) {
    this.watermark = watermark;
    // SkipFirst means the very first value ever; after a restart the watermark already does that job.
    this.skipNext = skipFirst && watermark === undefined;
  }

  /** True while values are held for a backfill. */
  get isHolding(): boolean {
    return this.holding;
  }

  /** The item is being (re)created; `backfill` when its missed interval will be read from history first. */
  beginSubscribe(backfill: boolean): void {
    this.firstAfterCreate = true;
    this.holding = backfill && this.watermark !== undefined;
    this.held = [];
  }

  /**
   * Values were dropped upstream of us while the item stayed monitored (the
   * server's queue overflowed, or publishing was paused): hold live values
   * until the interval after the watermark is read back from history.
   * Returns false when nothing was started: no watermark yet (nothing to
   * read back to), or a read-back is under way (then one more follows it).
   */
  beginRecovery(): boolean {
    if (this.holding) {
      this.lossWhileHolding = true;
      return false;
    }
    if (this.watermark === undefined) return false;
    this.holding = true;
    this.held = [];
    return true;
  }

  /** True once after a read-back during which more values were dropped (see `beginRecovery`). */
  takeLossWhileHolding(): boolean {
    const lost = this.lossWhileHolding;
    this.lossWhileHolding = false;
    return lost;
  }

  /** A value from the subscription; returns what to emit now (nothing while holding). */
  onLive(sample: NodeSample, now: number): Emission[] {
    this.lastValue = sample;
    if (this.holding) {
      this.held.push(sample);
      return [];
    }
    if (this.firstAfterCreate) {
      this.firstAfterCreate = false;
      if (this.skipNext) {
        this.skipNext = false;
        return [];
      }
      if (this.watermark !== undefined && sample.sourceTime <= this.watermark) return [];
    }
    return [this.emit(sample, 'live', now)];
  }

  /**
   * The backfill finished: `history` holds the values read back (oldest
   * first), or null when the server had none to give. Returns the history
   * values newer than the watermark, then the held live values still newer.
   */
  completeBackfill(history: readonly NodeSample[] | null, now: number): Emission[] {
    const out: Emission[] = [];
    for (const s of history ?? []) {
      if (this.watermark === undefined || s.sourceTime > this.watermark) out.push(this.emit(s, 'backfill', now));
    }
    const held = this.held;
    this.held = [];
    this.holding = false;
    for (const s of held) {
      this.firstAfterCreate = false;
      // Not newer than what went out: it came back with the history (or was sent before the link broke).
      if (this.watermark !== undefined && s.sourceTime <= this.watermark) continue;
      out.push(this.emit(s, 'live', now));
    }
    return out;
  }

  /** A heartbeat of the last value when nothing was emitted for `intervalMs`, stamped `now`. */
  heartbeat(intervalMs: number, now: number): Emission | undefined {
    if (intervalMs <= 0 || !this.lastValue || this.holding || now - this.lastEmitAt < intervalMs) return undefined;
    this.lastEmitAt = now;
    // Stamped with the heartbeat time, not the value's: a repeat must never look older than what came before it.
    const { serverTime: _serverTime, ...rest } = this.lastValue;
    return { sample: { ...rest, sourceTime: now }, kind: 'heartbeat' };
  }

  private emit(sample: NodeSample, kind: SampleKind, now: number): Emission {
    if (this.watermark === undefined || sample.sourceTime > this.watermark) this.watermark = sample.sourceTime;
    this.lastEmitAt = now;
    return { sample, kind };
  }
}
