import { describe, expect, it } from 'vitest';
import { fillGap, mergeWindows, walkHoles } from './sequence-gaps';

const old = (): number => 60_000;
const young = (): number => 10;

describe('walkHoles', () => {
  it('moves the watermark to the top when there is no hole', () => {
    expect(walkHoles({ seq: 9, timeMs: 900 }, [], { seq: 20, timeMs: 2000 }, 1000, old)).toEqual({ gaps: [], watermark: { seq: 20, timeMs: 2000 } });
  });

  it('declares holes whose later data is older than the grace period, with the times either side', () => {
    const walk = walkHoles(
      { seq: 9, timeMs: 900 },
      [
        { after: null, before: { seq: 12, timeMs: 1200 } },
        { after: { seq: 15, timeMs: 1500 }, before: { seq: 18, timeMs: 1800 } },
      ],
      { seq: 20, timeMs: 2000 },
      1000,
      old,
    );
    expect(walk.gaps).toEqual([
      { seqFrom: 10, seqTo: 11, fromTimeMs: 900, toTimeMs: 1200 },
      { seqFrom: 16, seqTo: 17, fromTimeMs: 1500, toTimeMs: 1800 },
    ]);
    expect(walk.watermark).toEqual({ seq: 20, timeMs: 2000 });
  });

  it('stops below the first hole that is still young, declaring the older ones before it', () => {
    const age = (seq: number): number => (seq < 18 ? 60_000 : 10);
    const walk = walkHoles(
      { seq: 9, timeMs: 900 },
      [
        { after: { seq: 11, timeMs: 1100 }, before: { seq: 13, timeMs: 1300 } },
        { after: { seq: 15, timeMs: 1500 }, before: { seq: 18, timeMs: 1800 } },
      ],
      { seq: 20, timeMs: 2000 },
      1000,
      age,
    );
    expect(walk).toEqual({ gaps: [{ seqFrom: 12, seqTo: 12, fromTimeMs: 1100, toTimeMs: 1300 }], watermark: { seq: 15, timeMs: 1500 } });
  });

  it('keeps the watermark when the first hole is young', () => {
    expect(walkHoles({ seq: 9, timeMs: null }, [{ after: null, before: { seq: 11, timeMs: 1100 } }], { seq: 11, timeMs: 1100 }, 1000, young)).toEqual({ gaps: [], watermark: { seq: 9, timeMs: null } });
  });
});

describe('fillGap', () => {
  const gap = { seqFrom: 10, seqTo: 19, fromTimeMs: 900, toTimeMs: 2000 };
  it('splits a gap around late samples', () => {
    expect(fillGap(gap, [{ seq: 12, timeMs: 1200 }, { seq: 13, timeMs: 1300 }, { seq: 19, timeMs: 1900 }])).toEqual([
      { seqFrom: 10, seqTo: 11, fromTimeMs: 900, toTimeMs: 1200 },
      { seqFrom: 14, seqTo: 18, fromTimeMs: 1300, toTimeMs: 1900 },
    ]);
  });
  it('removes a gap that is filled completely', () => {
    expect(fillGap({ seqFrom: 5, seqTo: 6, fromTimeMs: 0, toTimeMs: 10 }, [{ seq: 6, timeMs: 6 }, { seq: 5, timeMs: 5 }])).toEqual([]);
  });
  it('ignores samples outside the gap', () => {
    expect(fillGap(gap, [{ seq: 3, timeMs: 300 }])).toEqual([gap]);
  });
});

describe('mergeWindows', () => {
  it('merges overlapping and touching windows', () => {
    expect(mergeWindows([{ fromMs: 50, toMs: 60 }, { fromMs: 0, toMs: 10 }, { fromMs: 10, toMs: 20 }, { fromMs: 55, toMs: 70 }])).toEqual([
      { fromMs: 0, toMs: 20 },
      { fromMs: 50, toMs: 70 },
    ]);
  });
});
