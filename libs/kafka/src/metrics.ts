import { Counter, Gauge, Histogram, type Registry } from '@weir/observability';

// Several producers and consumers of one service share a registry; a metric is
// created once and then found again, and instances differ by labels.
function existing<M>(registry: Registry, name: string, kind: new (...args: never[]) => M): M | undefined {
  const metric = registry.getSingleMetric(name);
  if (metric === undefined) return undefined;
  if (!(metric instanceof kind)) throw new Error(`KAFKA.METRIC_CONFLICT: ${name} is already registered as another metric type`);
  return metric;
}

/** A counter from `registry`, created on first use. */
export function counter<L extends string>(registry: Registry, name: string, help: string, labelNames: readonly L[]): Counter<L> {
  return existing<Counter<L>>(registry, name, Counter) ?? new Counter<L>({ name, help, labelNames, registers: [registry] });
}

/** A gauge from `registry`, created on first use. */
export function gauge<L extends string>(registry: Registry, name: string, help: string, labelNames: readonly L[]): Gauge<L> {
  return existing<Gauge<L>>(registry, name, Gauge) ?? new Gauge<L>({ name, help, labelNames, registers: [registry] });
}

/** A histogram from `registry`, created on first use. */
export function histogram<L extends string>(registry: Registry, name: string, help: string, labelNames: readonly L[], buckets: number[]): Histogram<L> {
  return existing<Histogram<L>>(registry, name, Histogram) ?? new Histogram<L>({ name, help, labelNames, buckets, registers: [registry] });
}

/** Latency buckets in seconds, 1 ms to 60 s. */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** Seconds since `startNs` (from `process.hrtime.bigint()`). */
export function secondsSince(startNs: bigint): number {
  return Number(process.hrtime.bigint() - startNs) / 1e9;
}
