import { Counter, Histogram, type Registry } from '@weir/observability';

/** The API's Prometheus metrics. */
export interface ApiMetrics {
  requests: Counter<'route' | 'method' | 'status'>;
  duration: Histogram<'route' | 'method'>;
  rejected: Counter<'reason'>;
}

/** Registers the API's metrics on a registry. */
export function createApiMetrics(registry: Registry): ApiMetrics {
  return {
    requests: new Counter({ name: 'weir_api_requests_total', help: 'HTTP requests answered, by route template, method and status', labelNames: ['route', 'method', 'status'], registers: [registry] }),
    duration: new Histogram({
      name: 'weir_api_request_duration_seconds',
      help: 'HTTP request latency by route template',
      labelNames: ['route', 'method'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    rejected: new Counter({ name: 'weir_api_rejected_total', help: 'Requests refused before reaching a handler: unauthenticated, forbidden role, rate limited', labelNames: ['reason'], registers: [registry] }),
  };
}
