import { Writable } from 'node:stream';
import { createLogger, type Logger, type Registry } from '@weir/observability';

/** The sum of a metric's values over the label sets that have `labels`; 0 when the metric is absent. */
export async function metricValue(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = await registry.getSingleMetric(name)?.get();
  return (metric?.values ?? []).filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((sum, v) => sum + v.value, 0);
}

/**
 * A logger whose JSON lines are kept (parsed) for assertions, and echoed to stderr when
 * `WEIR_TEST_LOG_LEVEL` is set.
 */
export function capturingLogger(service: string, level = 'info'): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const echo = process.env['WEIR_TEST_LOG_LEVEL'];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) {
        if (!line.trim()) continue;
        lines.push(JSON.parse(line) as Record<string, unknown>);
        if (echo) process.stderr.write(`${line}\n`);
      }
      done();
    },
  });
  return { logger: createLogger({ service, level, destination }), lines };
}
