/** Injection tokens of the analytics API. */
export const SETTINGS = Symbol('ANALYTICS_SETTINGS');
export const LOGGER = Symbol('ANALYTICS_LOGGER');
export const PG_POOL = Symbol('ANALYTICS_PG_POOL');
export const API_METRICS = Symbol('ANALYTICS_METRICS');
