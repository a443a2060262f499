/** One stored sample's sequence number and source time (ms since the epoch). */
export interface SeqPoint {
  seq: number;
  timeMs: number;
}

/** A run of missing sequence numbers of one source, with the source times of the samples either side. */
export interface SequenceGap {
  seqFrom: number;
  seqTo: number;
  fromTimeMs: number;
  toTimeMs: number;
}

/** Where the contiguous prefix of a source's sequence numbers ends. */
export interface Watermark {
  /** Every sequence number up to this one is stored or recorded as a gap. */
  seq: number;
  /** Source time of the sample at `seq`, when known. */
  timeMs: number | null;
}

/** A hole between two stored samples of a source: nothing stored strictly between `after` and `before`. */
export interface SequenceHole {
  /** The stored sample just below the hole; null when the hole starts right after the watermark. */
  after: SeqPoint | null;
  /** The stored sample just above the hole. */
  before: SeqPoint;
}

/** The outcome of a detection pass over one source. */
export interface SequenceWalk {
  gaps: SequenceGap[];
  watermark: Watermark;
}

/**
 * Decides which holes above the watermark `from` are gaps. A hole is declared
 * a gap only when the data after it has been stored for at least `graceMs`
 * (`storedAgeMs(seq)` says how long the sample at `seq` has been stored):
 * partitions of one source are consumed independently, so a hole can be a
 * lagging partition rather than a loss. The walk stops at the first hole that
 * is still young, and the watermark stops just below it; otherwise it moves
 * to `top`, the highest stored sequence number. `holes` are sorted by sequence.
 */
export function walkHoles(from: Watermark, holes: readonly SequenceHole[], top: SeqPoint | null, graceMs: number, storedAgeMs: (seq: number) => number): SequenceWalk {
  const gaps: SequenceGap[] = [];
  for (const h of holes) {
    const below: Watermark = h.after ? { seq: h.after.seq, timeMs: h.after.timeMs } : from;
    if (h.before.seq <= below.seq + 1 || h.before.seq <= from.seq) continue;
    if (storedAgeMs(h.before.seq) < graceMs) return { gaps, watermark: below.seq >= from.seq ? below : from };
    gaps.push({ seqFrom: below.seq + 1, seqTo: h.before.seq - 1, fromTimeMs: below.timeMs ?? h.before.timeMs, toTimeMs: h.before.timeMs });
  }
  return { gaps, watermark: top && top.seq > from.seq ? { seq: top.seq, timeMs: top.timeMs } : from };
}

/**
 * What remains of a recorded gap after samples inside it arrived late: the
 * runs of its sequence numbers that are still missing, each with the times of
 * its neighbours (the late samples, or the gap's own bounds at its ends).
 */
export function fillGap(gap: SequenceGap, present: readonly SeqPoint[]): SequenceGap[] {
  const inside = present.filter((p) => p.seq >= gap.seqFrom && p.seq <= gap.seqTo).sort((a, b) => a.seq - b.seq);
  if (inside.length === 0) return [gap];
  const out: SequenceGap[] = [];
  let next = gap.seqFrom;
  let prevTime = gap.fromTimeMs;
  for (const p of inside) {
    if (p.seq < next) continue;
    if (p.seq > next) out.push({ seqFrom: next, seqTo: p.seq - 1, fromTimeMs: prevTime, toTimeMs: p.timeMs });
    next = p.seq + 1;
    prevTime = p.timeMs;
  }
  if (next <= gap.seqTo) out.push({ seqFrom: next, seqTo: gap.seqTo, fromTimeMs: prevTime, toTimeMs: gap.toTimeMs });
  return out;
}

/** Merges time windows `[fromMs, toMs]` that overlap or touch, sorted by start. */
export function mergeWindows(windows: readonly { fromMs: number; toMs: number }[]): { fromMs: number; toMs: number }[] {
  const sorted = [...windows].sort((a, b) => a.fromMs - b.fromMs);
  const out: { fromMs: number; toMs: number }[] = [];
  for (const w of sorted) {
    const last = out[out.length - 1];
    if (last && w.fromMs <= last.toMs) last.toMs = Math.max(last.toMs, w.toMs);
    else out.push({ ...w });
  }
  return out;
}
