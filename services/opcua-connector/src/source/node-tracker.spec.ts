import { describe, expect, it } from 'vitest';
import { NodeTracker, type NodeSample } from './node-tracker';

const s = (t: number, value = t): NodeSample => ({ value, dataType: 'Double', status: 0, sourceTime: t });
const times = (e: Array<{ sample: NodeSample; kind: string }>) => e.map((x) => `${x.kind}:${x.sample.sourceTime}`);

describe('NodeTracker', () => {
  it('emits every live value of a new node, the first one included', () => {
    const n = new NodeTracker('ns=2;s=A', undefined, false);
    n.beginSubscribe(true);
    expect(times(n.onLive(s(1000), 0))).toEqual(['live:1000']);
    expect(times(n.onLive(s(2000), 0))).toEqual(['live:2000']);
    expect(n.watermark).toBe(2000);
  });

  it('skips the very first value with SkipFirst, but not after a restart', () => {
    const fresh = new NodeTracker('a', undefined, true);
    fresh.beginSubscribe(false);
    expect(n(fresh.onLive(s(1000), 0))).toBe(0);
    expect(n(fresh.onLive(s(2000), 0))).toBe(1);
    const restarted = new NodeTracker('a', 1000, true);
    restarted.beginSubscribe(false);
    expect(times(restarted.onLive(s(3000), 0))).toEqual(['live:3000']);
  });

  it('drops the initial value after a re-subscription when it was already sent', () => {
    const t = new NodeTracker('a', 5000, false);
    t.beginSubscribe(false);
    expect(n(t.onLive(s(5000), 0))).toBe(0);
    expect(times(t.onLive(s(6000), 0))).toEqual(['live:6000']);
  });

  it('holds live values during a backfill, then emits history and the held values once each, in order', () => {
    const t = new NodeTracker('a', 5000, false);
    t.beginSubscribe(true);
    expect(n(t.onLive(s(9000), 0))).toBe(0);
    expect(n(t.onLive(s(10_000), 0))).toBe(0);
    // History overlaps the watermark and the held values: each value goes out once.
    expect(times(t.completeBackfill([s(5000), s(6000), s(7000), s(8000), s(9000)], 0))).toEqual(['backfill:6000', 'backfill:7000', 'backfill:8000', 'backfill:9000', 'live:10000']);
    expect(t.watermark).toBe(10_000);
    expect(times(t.onLive(s(11_000), 0))).toEqual(['live:11000']);
  });

  it('without history emits the held values that are newer than the watermark', () => {
    const t = new NodeTracker('a', 5000, false);
    t.beginSubscribe(true);
    t.onLive(s(5000), 0);
    t.onLive(s(12_000), 0);
    expect(times(t.completeBackfill(null, 0))).toEqual(['live:12000']);
  });

  it('repeats the last value as a heartbeat stamped now when nothing was emitted for the interval', () => {
    const t = new NodeTracker('a', undefined, false);
    t.beginSubscribe(false);
    t.onLive({ ...s(1000, 7), serverTime: 1001 }, 1000);
    expect(t.heartbeat(5000, 3000)).toBeUndefined();
    expect(t.heartbeat(5000, 6000)).toEqual({ kind: 'heartbeat', sample: { value: 7, dataType: 'Double', status: 0, sourceTime: 6000 } });
    expect(t.heartbeat(5000, 7000)).toBeUndefined();
    // A heartbeat never moves the watermark: a later real value with an older source time still counts.
    expect(t.watermark).toBe(1000);
  });

  it('recovers dropped values: holds live ones, emits the read-back history and then the held values once each', () => {
    const t = new NodeTracker('a', undefined, false);
    t.beginSubscribe(false);
    expect(times(t.onLive(s(1000), 0))).toEqual(['live:1000']);
    // The server dropped 2000 and 3000 and flagged 4000 with the Overflow bit.
    expect(t.beginRecovery()).toBe(true);
    expect(n(t.onLive(s(4000), 0))).toBe(0);
    expect(n(t.onLive(s(5000), 0))).toBe(0);
    expect(t.heartbeat(1, 10_000)).toBeUndefined();
    expect(times(t.completeBackfill([s(1000), s(2000), s(3000), s(4000)], 0))).toEqual(['backfill:2000', 'backfill:3000', 'backfill:4000', 'live:5000']);
    expect(times(t.onLive(s(6000), 0))).toEqual(['live:6000']);
  });

  it('keeps held values in order when the history is unavailable, and asks for another read-back when values were dropped meanwhile', () => {
    const t = new NodeTracker('a', 1000, false);
    expect(t.beginRecovery()).toBe(true);
    expect(n(t.onLive(s(4000), 0))).toBe(0);
    // Dropped again while the first read-back runs: no second hold, but a note to read back again.
    expect(t.beginRecovery()).toBe(false);
    expect(n(t.onLive(s(8000), 0))).toBe(0);
    expect(times(t.completeBackfill(null, 0))).toEqual(['live:4000', 'live:8000']);
    expect(t.takeLossWhileHolding()).toBe(true);
    expect(t.takeLossWhileHolding()).toBe(false);
  });

  it('cannot recover before the first value: there is no point to read back from', () => {
    const t = new NodeTracker('a', undefined, false);
    expect(t.beginRecovery()).toBe(false);
    expect(times(t.onLive(s(1000), 0))).toEqual(['live:1000']);
  });
});

function n(e: unknown[]): number {
  return e.length;
}
