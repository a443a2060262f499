import { StoreAndForwardProducer, type BatchingProducer } from '@weir/kafka';
import type { HealthRegistry, Logger, Registry } from '@weir/observability';
import type { Spool } from './spool';

/**
 * Opens the connector's disk spool in `dir`, forwarding to `producer` (the
 * spool's own: one producer per spool keeps the order). Full spool: appends
 * wait (`onFull: block`), which pauses the subscriptions; nothing is dropped.
 */
export async function openSpool(options: { dir: string; producer: BatchingProducer; logger: Logger; metrics: Registry; health: HealthRegistry; maxBytes: number }): Promise<Spool> {
  const spool = await StoreAndForwardProducer.open({ dir: options.dir, producer: options.producer, logger: options.logger, metrics: options.metrics, maxBytes: options.maxBytes, fsync: 'batch', onFull: 'block', name: 'opcua' });
  options.health.register(spool.healthCheck());
  options.health.register(spool.livenessCheck());
  return spool;
}
