import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { resolve } from 'node:path';

/** One timed run of one side of a comparison. */
export interface RunMeasure {
  /** Units of work done (messages, rows). */
  items: number;
  /** Wall time in milliseconds. */
  wallMs: number;
  /** CPU time (user + system) of this process in milliseconds. */
  cpuMs: number;
}

/** Throughput of a run in items per second. */
export const rate = (m: RunMeasure): number => (m.items / m.wallMs) * 1000;

/** Measures `fn` (which returns how many items it processed): wall and CPU time of this process. */
export async function measure(fn: () => Promise<number>): Promise<RunMeasure> {
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const items = await fn();
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const cpu = process.cpuUsage(cpu0);
  return { items, wallMs, cpuMs: (cpu.user + cpu.system) / 1000 };
}

/** Median of numbers. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** The result of an A/B comparison run as alternating pairs. */
export interface Comparison {
  pairs: number;
  /** Per pair: rate(ours) / rate(baseline). */
  ratios: number[];
  medianRatio: number;
  minRatio: number;
  maxRatio: number;
  ours: RunMeasure[];
  baseline: RunMeasure[];
}

/**
 * Runs ours and the baseline alternately (A B A B ...), `warmup` pairs
 * discarded, then `pairs` measured; alternation starts with the baseline on
 * odd pairs so neither side always runs on a warmer cache.
 */
export async function compare(opts: { pairs: number; warmup: number; ours: () => Promise<RunMeasure>; baseline: () => Promise<RunMeasure>; log?: (line: string) => void }): Promise<Comparison> {
  const log = opts.log ?? ((l: string) => process.stdout.write(`${l}\n`));
  const ours: RunMeasure[] = [];
  const baseline: RunMeasure[] = [];
  for (let i = 0; i < opts.warmup + opts.pairs; i++) {
    const first = i % 2 === 0 ? 'ours' : 'baseline';
    const a = first === 'ours' ? await opts.ours() : await opts.baseline();
    const b = first === 'ours' ? await opts.baseline() : await opts.ours();
    const [o, bl] = first === 'ours' ? [a, b] : [b, a];
    const tag = i < opts.warmup ? 'warm-up' : `pair ${i - opts.warmup + 1}`;
    log(`${tag}: ours ${Math.round(rate(o))}/s (${o.items} in ${o.wallMs.toFixed(0)} ms), baseline ${Math.round(rate(bl))}/s (${bl.items} in ${bl.wallMs.toFixed(0)} ms), ratio ${(rate(o) / rate(bl)).toFixed(3)}`);
    if (i >= opts.warmup) {
      ours.push(o);
      baseline.push(bl);
    }
  }
  const ratios = ours.map((o, i) => rate(o) / rate(baseline[i]!));
  return { pairs: opts.pairs, ratios, medianRatio: median(ratios), minRatio: Math.min(...ratios), maxRatio: Math.max(...ratios), ours, baseline };
}

/** CPU milliseconds per million items, median over runs. */
export function cpuPerMillion(runs: readonly RunMeasure[]): number {
  return median(runs.map((r) => (r.cpuMs / r.items) * 1e6));
}

/** One entry of bench/results.json. */
export interface ResultEntry {
  value: number;
  unit: string;
  goal?: number;
  command: string;
  measured_at: string;
  [extra: string]: unknown;
}

const RESULTS = resolve(__dirname, '..', 'results.json');

/** Writes or replaces `key` in bench/results.json, keeping the other keys. */
export function recordResult(key: string, entry: Omit<ResultEntry, 'measured_at'> & { measured_at?: string }): void {
  // Profiling and smoke runs measure something other than the recorded workload.
  if (process.env['BENCH_NO_RECORD'] === '1') {
    process.stdout.write(`BENCH_NO_RECORD=1: ${key} not recorded\n`);
    return;
  }
  const all: Record<string, ResultEntry> = existsSync(RESULTS) ? (JSON.parse(readFileSync(RESULTS, 'utf8')) as Record<string, ResultEntry>) : {};
  all[key] = { ...entry, measured_at: entry.measured_at ?? new Date().toISOString() } as ResultEntry;
  const sorted = Object.fromEntries(Object.entries(all).sort(([a], [b]) => a.localeCompare(b)));
  writeFileSync(RESULTS, `${JSON.stringify(sorted, null, 2)}\n`);
}

/** The machine and versions a result was measured on. */
export function environment(): Record<string, string> {
  return { cpu: cpus()[0]?.model ?? 'unknown', cores: String(cpus().length), node: process.version };
}

/** The installed version of a package, for the environment block of a result. */
export function packageVersion(name: string): string {
  return (JSON.parse(readFileSync(resolve(__dirname, '..', '..', 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
}

