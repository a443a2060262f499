import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Counter, createLogger, createMetricsRegistry, GracefulShutdown, HealthRegistry } from './index';

function capture(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({ write(chunk, _enc, cb) { chunks.push(String(chunk)); cb(); } });
  return { stream, lines: () => chunks.join('').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('logger', () => {
  it('writes JSON with the service name and masks secrets', () => {
    const out = capture();
    const log = createLogger({ service: 'sink', destination: out.stream });
    log.info({ db: { password: 'hunter2' }, rows: 3 }, 'flushed');
    const [line] = out.lines();
    expect(line).toMatchObject({ service: 'sink', level: 'info', msg: 'flushed', rows: 3, db: { password: '[redacted]' } });
  });
});

describe('HealthRegistry', () => {
  it('fails readiness on a failing readiness check but keeps liveness', async () => {
    const h = new HealthRegistry(50);
    h.register({ name: 'process', kind: 'liveness', check: () => ({ ok: true }) });
    h.register({ name: 'kafka', kind: 'readiness', check: () => ({ ok: false, detail: 'no partitions assigned' }) });
    expect((await h.report('liveness')).status).toBe('ok');
    expect(await h.report('readiness')).toEqual({ status: 'fail', checks: { process: { ok: true }, kafka: { ok: false, detail: 'no partitions assigned' } } });
  });

  it('fails a check that throws or hangs', async () => {
    const h = new HealthRegistry(20);
    h.register({ name: 'throws', kind: 'liveness', check: () => { throw new Error('boom'); } });
    h.register({ name: 'hangs', kind: 'liveness', check: () => new Promise(() => undefined) });
    const r = await h.report('liveness');
    expect(r.checks).toEqual({ throws: { ok: false, detail: 'boom' }, hangs: { ok: false, detail: 'no answer within 20 ms' } });
  });
});

describe('metrics', () => {
  it('labels every metric with the service', async () => {
    const reg = createMetricsRegistry('enricher', { defaultMetrics: false });
    new Counter({ name: 'weir_test_total', help: 'test', registers: [reg] }).inc(2);
    expect(await reg.metrics()).toContain('weir_test_total{service="enricher"} 2');
  });
});

describe('GracefulShutdown', () => {
  it('stops steps in reverse order, once', async () => {
    const order: string[] = [];
    const s = new GracefulShutdown(createLogger({ service: 't', level: 'silent' }));
    s.add({ name: 'pool', stop: () => { order.push('pool'); } });
    s.add({ name: 'consumer', stop: async () => { order.push('consumer'); } });
    await Promise.all([s.shutdown(), s.shutdown()]);
    expect(order).toEqual(['consumer', 'pool']);
  });
});
