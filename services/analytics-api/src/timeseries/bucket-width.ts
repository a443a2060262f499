/** A bucket width as PostgreSQL takes it (`5 minutes`, `1 day`) and its nominal length in ms. */
export interface BucketWidth {
  interval: string;
  ms: number;
}

const UNITS: Record<string, { name: string; ms: number }> = {
  s: { name: 'seconds', ms: 1000 },
  m: { name: 'minutes', ms: 60_000 },
  h: { name: 'hours', ms: 3_600_000 },
  d: { name: 'days', ms: 86_400_000 },
};

/**
 * Parses `30s`, `1m`, `15m`, `1h`, `1d` (up to 4 digits). Days stay calendar days so a bucket in a time
 * zone with DST spans the local day (23 or 25 h); undefined when the text is not a width.
 */
export function parseBucketWidth(text: string): BucketWidth | undefined {
  const m = /^([1-9]\d{0,3})(s|m|h|d)$/.exec(text);
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = UNITS[m[2]!]!;
  return { interval: `${n} ${unit.name}`, ms: n * unit.ms };
}

/** Most buckets a range can hold (one more for a partial first bucket, one more for a DST day). */
export function maxBuckets(fromMs: number, toMs: number, width: BucketWidth): number {
  return Math.ceil((toMs - fromMs) / width.ms) + 2;
}
