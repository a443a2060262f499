import { collectDefaultMetrics, Registry } from 'prom-client';

export { Counter, Gauge, Histogram, Summary, Registry } from 'prom-client';

/** A Prometheus registry for one service: process metrics plus a `service` label on everything. */
export function createMetricsRegistry(service: string, options: { defaultMetrics?: boolean } = {}): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'weir_' });
  return registry;
}
