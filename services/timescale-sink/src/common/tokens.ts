/** Injection tokens of the sink's shared objects; explicit tokens keep DI working without decorator metadata (tsx, esbuild). */

/** The validated `SinkSettings`. */
export const SINK_SETTINGS = Symbol('SINK_SETTINGS');
/** The service's pino `Logger`. */
export const LOGGER = Symbol('LOGGER');
/** The service's Prometheus `Registry`. */
export const METRICS_REGISTRY = Symbol('METRICS_REGISTRY');
/** The service's `HealthRegistry`. */
export const HEALTH = Symbol('HEALTH');
/** The pg `Pool` of the sink's database. */
export const PG_POOL = Symbol('PG_POOL');
