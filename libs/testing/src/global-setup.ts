import type { TestProject } from 'vitest/node' with { 'resolution-mode': 'import' };
import { startKafka, startTimescale } from './containers';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Bootstrap servers of the shared test Kafka. */
    kafkaBrokers: string[];
    /** Superuser URL of the shared test TimescaleDB. */
    databaseUrl: string;
  }
}

/**
 * Vitest global setup for integration tests: one Kafka and one TimescaleDB for
 * the whole run (or the external ones named in the environment), stopped at the end.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  process.env['TESTCONTAINERS_HOST_OVERRIDE'] ??= '127.0.0.1';
  process.env['TESTCONTAINERS_RYUK_DISABLED'] ??= 'true';
  const started = Date.now();
  const [kafka, timescale] = await Promise.all([startKafka(), startTimescale()]);
  process.stdout.write(`test stack ready in ${Date.now() - started} ms: kafka ${kafka.brokers.join(',')} (${kafka.source}), timescaledb ${timescale.url.replace(/:[^:@/]+@/, ':***@')} (${timescale.source})\n`);
  project.provide('kafkaBrokers', kafka.brokers);
  project.provide('databaseUrl', timescale.url);
  return async () => {
    await Promise.allSettled([kafka.stop(), timescale.stop()]);
  };
}
