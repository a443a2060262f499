import { afterEach, describe, expect, it, vi } from 'vitest';
import { Counter } from 'prom-client';
import { z } from 'zod';
import { runService } from './run-service';

const schema = z.object({ port: z.coerce.number().int().min(1).max(65_535).default(8080), logLevel: z.string().default('silent') });

describe('runService', () => {
  const listeners = { SIGTERM: process.listeners('SIGTERM'), SIGINT: process.listeners('SIGINT') };
  afterEach(() => {
    // runService installs signal handlers; take back the ones a test added.
    for (const signal of ['SIGTERM', 'SIGINT'] as const) for (const l of process.listeners(signal)) if (!listeners[signal].includes(l)) process.off(signal, l);
    process.exitCode = undefined;
    vi.restoreAllMocks();
  });

  it('reports every bad setting with its key on stderr, sets exit code 2 and starts nothing', async () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const start = vi.fn(async () => undefined);
    await runService({ name: 'svc', schema, logLevel: (c) => c.logLevel, start, env: { WEIR_PORT: 'eighty' } });
    expect(process.exitCode).toBe(2);
    expect(start).not.toHaveBeenCalled();
    expect(String(stderr.mock.calls[0]?.[0])).toMatch(/port \(from env WEIR_PORT\)/);
  });

  it('passes the settings to start; a failed start stops what started and exits 1', async () => {
    const stopped: string[] = [];
    const exit = vi.fn();
    await runService({
      name: 'svc',
      schema,
      logLevel: (c) => c.logLevel,
      env: { WEIR_PORT: '9000' },
      exit,
      start: async ({ config, shutdown }) => {
        expect(config.port).toBe(9000);
        shutdown.add({ name: 'first', stop: async () => void stopped.push('first') });
        shutdown.add({ name: 'second', stop: async () => void stopped.push('second') });
        throw Object.assign(new Error('broker unreachable'), { code: 'KAFKA.CONNECT' });
      },
    });
    expect(stopped).toEqual(['second', 'first']);
    expect(exit).toHaveBeenCalledWith(1);
  });

  it('leaves a started service running', async () => {
    const exit = vi.fn();
    let started = false;
    await runService({ name: 'svc', schema, logLevel: (c) => c.logLevel, env: {}, exit, start: async () => void (started = true) });
    expect(started).toBe(true);
    expect(exit).not.toHaveBeenCalled();
    expect(process.exitCode).toBeUndefined();
  });

  it('with ops, serves the context metrics and health over HTTP after start, and stops that server first', async () => {
    const stopped: string[] = [];
    const running = await runService({
      name: 'svc',
      schema,
      logLevel: (c) => c.logLevel,
      env: {},
      ops: () => ({ host: '127.0.0.1', port: 0 }),
      start: async ({ metrics, health, shutdown }) => {
        metrics.registerMetric(new Counter({ name: 'svc_things_total', help: 'things', registers: [] }));
        health.register({ name: 'backend', kind: 'readiness', check: () => ({ ok: false, detail: 'not yet' }) });
        shutdown.add({ name: 'service', stop: async () => void stopped.push('service') });
      },
    });
    expect(running?.opsPort).toBeGreaterThan(0);
    const base = `http://127.0.0.1:${running!.opsPort}`;
    const metricsText = await (await fetch(`${base}/metrics`)).text();
    expect(metricsText).toMatch(/^svc_things_total\{service="svc"\} 0$/m);
    expect(metricsText).toMatch(/^weir_process_cpu_seconds_total\{service="svc"\}/m);
    const ready = await fetch(`${base}/health/ready`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ checks: { backend: { ok: false, detail: 'not yet' } } });
    await running!.shutdown.shutdown();
    expect(stopped).toEqual(['service']);
    // The ops server was stopped too: nothing listens on its port any more.
    await expect(fetch(`${base}/health/live`)).rejects.toThrow();
  });
});
