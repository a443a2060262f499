import { hashWords, prng, unit } from './hash';
import { SCHEDULED_DOWN_REASONS, SCHEDULED_IDLE_REASONS } from './reasons';

/** Milliseconds in a day. */
export const DAY_MS = 86_400_000;
const DAY_S = 86_400;

/** Numeric state codes used inside the model (index into MACHINE_STATES). */
export const RUNNING = 0;
export const IDLE = 1;
export const DOWN = 2;

/**
 * How much of a day a machine runs, idles and is down on average, and how much
 * that varies from day to day. All in whole seconds.
 */
export interface ScheduleProfile {
  meanRun: number;
  meanIdle: number;
  /** Day-to-day jitter bounds of run and idle time. */
  runJitter: number;
  idleJitter: number;
}

/** A profile from an availability (share of the day running, 0.5..0.9). */
export function scheduleProfile(availability: number): ScheduleProfile {
  const meanRun = Math.round(availability * DAY_S);
  const nonRun = DAY_S - meanRun;
  return { meanRun, meanIdle: Math.round(0.55 * nonRun), runJitter: Math.floor(0.15 * nonRun), idleJitter: Math.floor(0.05 * nonRun) };
}

// Day totals telescope: run(d) = meanRun + j(d) - j(d-1) with a bounded seeded
// jitter j, so the run time from the epoch to the start of day d is
// d * meanRun + j(d-1) — a closed form, whatever d is. The same holds for idle.
// Down time is the rest of the day. The bounds in scheduleProfile keep every
// day's run, idle and down time positive.
function jitter(key: number, salt: number, day: number, bound: number): number {
  if (day < 0) return 0;
  return Math.round(bound * (2 * unit(key, salt, day) - 1));
}

const RUN_SALT = 0x52554e;
const IDLE_SALT = 0x49444c;

/** Seconds running, idle and down on one day (days counted from the model epoch). */
export interface DayTotals {
  run: number;
  idle: number;
  down: number;
}

/** The totals of day `day` of a machine. */
export function dayTotals(profile: ScheduleProfile, key: number, day: number): DayTotals {
  const run = profile.meanRun + jitter(key, RUN_SALT, day, profile.runJitter) - jitter(key, RUN_SALT, day - 1, profile.runJitter);
  const idle = profile.meanIdle + jitter(key, IDLE_SALT, day, profile.idleJitter) - jitter(key, IDLE_SALT, day - 1, profile.idleJitter);
  return { run, idle, down: DAY_S - run - idle };
}

/** Seconds running, idle and down from the epoch to the start of day `day`, in O(1). */
export function totalsBeforeDay(profile: ScheduleProfile, key: number, day: number): DayTotals {
  const run = day * profile.meanRun + jitter(key, RUN_SALT, day - 1, profile.runJitter);
  const idle = day * profile.meanIdle + jitter(key, IDLE_SALT, day - 1, profile.idleJitter);
  return { run, idle, down: day * DAY_S - run - idle };
}

/** One day of a machine's base schedule: segments of constant state and reason. */
export interface DaySchedule {
  day: number;
  /** Segment starts in seconds from the start of the day, with a final 86400. */
  starts: Int32Array;
  states: Uint8Array;
  reasons: Uint16Array;
  /** Seconds running / idle before each segment within the day (one more entry than segments). */
  runBefore: Int32Array;
  idleBefore: Int32Array;
}

/** Splits an integer total by weights into integers that add up to it exactly. */
function split(total: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  const out: number[] = [];
  let acc = 0;
  let prev = 0;
  weights.forEach((w, i) => {
    acc += w;
    const cur = i === weights.length - 1 ? total : Math.floor((total * acc) / sum);
    out.push(cur - prev);
    prev = cur;
  });
  return out;
}

function pick(rng: () => number, table: ReadonlyArray<readonly [number, number]>): number {
  const sum = table.reduce((a, [, w]) => a + w, 0);
  let x = rng() * sum;
  for (const [code, w] of table) {
    x -= w;
    if (x < 0) return code;
  }
  return table[table.length - 1]![0];
}

/**
 * Builds the schedule of one day: 4 to 13 stops (idle or down, each with a
 * reason) between running stretches, with durations that add up exactly to the
 * day's totals. Pure function of (key, day, totals).
 */
export function buildDaySchedule(key: number, day: number, totals: DayTotals): DaySchedule {
  const rng = prng(hashWords(key, 0xda7, day));
  const nStops = 4 + Math.floor(rng() * 10);
  const kinds: number[] = [IDLE, DOWN];
  const idleShare = totals.idle / (totals.idle + totals.down);
  for (let i = 2; i < nStops; i++) kinds.push(rng() < idleShare ? IDLE : DOWN);
  const weight = (): number => 0.3 + 1.4 * rng();
  const idleIdx = kinds.map((k, i) => (k === IDLE ? i : -1)).filter((i) => i >= 0);
  const downIdx = kinds.map((k, i) => (k === DOWN ? i : -1)).filter((i) => i >= 0);
  const durations: number[] = new Array<number>(nStops).fill(0);
  split(totals.idle, idleIdx.map(weight)).forEach((d, j) => (durations[idleIdx[j]!] = d));
  split(totals.down, downIdx.map(weight)).forEach((d, j) => (durations[downIdx[j]!] = d));
  const stops = kinds.map((state, i) => ({ state, duration: durations[i]!, reason: pick(rng, state === IDLE ? SCHEDULED_IDLE_REASONS : SCHEDULED_DOWN_REASONS) }));
  for (let i = stops.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [stops[i], stops[j]] = [stops[j]!, stops[i]!];
  }
  const runs = split(totals.run, Array.from({ length: nStops + 1 }, weight));

  const segs: Array<{ state: number; reason: number; duration: number }> = [];
  const push = (state: number, reason: number, duration: number): void => {
    if (duration <= 0) return;
    const last = segs[segs.length - 1];
    if (last && last.state === state && last.reason === reason) last.duration += duration;
    else segs.push({ state, reason, duration });
  };
  runs.forEach((run, i) => {
    push(RUNNING, 0, run);
    const stop = stops[i];
    if (stop) push(stop.state, stop.reason, stop.duration);
  });

  const n = segs.length;
  const starts = new Int32Array(n + 1);
  const states = new Uint8Array(n);
  const reasons = new Uint16Array(n);
  const runBefore = new Int32Array(n + 1);
  const idleBefore = new Int32Array(n + 1);
  let t = 0;
  segs.forEach((s, i) => {
    starts[i] = t;
    states[i] = s.state;
    reasons[i] = s.reason;
    runBefore[i + 1] = runBefore[i]! + (s.state === RUNNING ? s.duration : 0);
    idleBefore[i + 1] = idleBefore[i]! + (s.state === IDLE ? s.duration : 0);
    t += s.duration;
  });
  starts[n] = t;
  if (t !== DAY_S) throw new Error(`MODEL.SCHEDULE_MISMATCH: day ${day} adds up to ${t} s`);
  return { day, starts, states, reasons, runBefore, idleBefore };
}

/** Index of the segment holding second `sec` of the day (0 <= sec < 86400). */
export function segmentIndex(schedule: DaySchedule, sec: number): number {
  const { starts } = schedule;
  let lo = 0;
  let hi = starts.length - 2;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= sec) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
