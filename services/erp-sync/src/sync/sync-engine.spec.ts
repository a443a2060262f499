import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ErpWorkOrderV1 } from '@weir/contracts';
import { createLogger, createMetricsRegistry } from '@weir/observability';
import { afterEach, describe, expect, it } from 'vitest';
import { ErpSyncError } from '../errors';
import type { ChangeSet, ErpFeed, FetchOptions } from './change-set';
import type { OutMessage } from './planner';
import type { Publisher } from './publisher';
import { StateStore } from './state-store';
import { SyncEngine } from './sync-engine';
import { SyncMetrics } from './sync-metrics';

const order = (id: string, changedAt: string): ErpWorkOrderV1 => ({ id, assetId: 'a', type: 'PM01', status: 'released', validFrom: changedAt, validTo: null, changedAt, attributes: {} });
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A feed that answers from a script and records what it was asked. */
class ScriptedFeed implements ErpFeed {
  readonly name = 'sap:TEST/Orders';
  readonly kinds = ['workOrders'] as const;
  readonly calls: { since: string | undefined; full: boolean }[] = [];
  constructor(
    private readonly answers: (() => ChangeSet)[],
    readonly reconcileIntervalMs?: number,
  ) {}
  fetchChanges(since: string | undefined, options: FetchOptions): Promise<ChangeSet> {
    this.calls.push({ since, full: options.full });
    const next = this.answers.shift();
    if (!next) return Promise.resolve({ upserts: {}, deletions: {} });
    try {
      return Promise.resolve(next());
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }
}

class RecordingPublisher implements Publisher {
  readonly sent: OutMessage[][] = [];
  failNext = false;
  publish(messages: readonly OutMessage[]): Promise<void> {
    if (this.failNext) {
      this.failNext = false;
      return Promise.reject(new Error('KAFKA.SEND_FAILED: broker gone'));
    }
    this.sent.push([...messages]);
    return Promise.resolve();
  }
}

async function engine(feed: ScriptedFeed, clock: { t: number }) {
  const dir = mkdtempSync(join(tmpdir(), 'weir-erp-engine-'));
  dirs.push(dir);
  const store = new StateStore(dir);
  const publisher = new RecordingPublisher();
  const registry = createMetricsRegistry('erp-sync', { defaultMetrics: false });
  const e = new SyncEngine({
    groups: [{ name: 'sap', intervalMs: 60_000, feeds: [feed] }],
    publisher,
    store,
    state: await store.load(),
    tree: { levelByDepth: ['site'] },
    logger: createLogger({ service: 'test', level: 'silent' }),
    metrics: new SyncMetrics(registry),
    staleAfterIntervals: 3,
    now: () => new Date(clock.t),
  });
  return { e, publisher, store, registry };
}

describe('the sync engine', () => {
  it('checkpoints only after publishing, and repeats a poll whose publish failed', async () => {
    const clock = { t: Date.parse('2026-11-25T09:00:00Z') };
    const answer = (): ChangeSet => ({ upserts: { workOrders: [order('1', '2026-11-25T08:00:00Z')] }, deletions: {}, nextSince: '2026-11-25T08:00:00.000Z' });
    const feed = new ScriptedFeed([answer, answer, () => ({ upserts: {}, deletions: {} })]);
    const { e, publisher, store } = await engine(feed, clock);
    publisher.failNext = true;
    const [failed] = await e.pollNow();
    expect(failed).toMatchObject({ ok: false, error: expect.stringMatching(/^ERP\.PUBLISH_FAILED: 1 message\(s\) of sap:TEST\/Orders not acknowledged/) });
    expect((await store.load()).feeds).toEqual({});

    const [ok] = await e.pollNow();
    expect(ok).toMatchObject({ ok: true, mode: 'full', published: 1 });
    const state = JSON.parse(readFileSync(store.file, 'utf8')) as { feeds: Record<string, { since: string }> };
    expect(state.feeds['sap:TEST/Orders']!.since).toBe('2026-11-25T08:00:00.000Z');

    await e.pollNow();
    expect(feed.calls).toEqual([
      { since: undefined, full: true },
      { since: undefined, full: true },
      { since: '2026-11-25T08:00:00.000Z', full: false },
    ]);
  });

  it('counts a failed fetch under its code and keeps the checkpoint', async () => {
    const clock = { t: Date.parse('2026-11-25T09:00:00Z') };
    const feed = new ScriptedFeed([
      () => ({ upserts: {}, deletions: {}, nextSince: '2026-11-25T08:00:00.000Z' }),
      () => {
        throw new ErpSyncError('ERP.ODATA_ERROR', 'TEST/Orders: HTTP 500: X "down"');
      },
    ]);
    const { e, registry } = await engine(feed, clock);
    await e.pollNow();
    const [result] = await e.pollNow();
    expect(result).toMatchObject({ ok: false, mode: 'delta', error: 'ERP.ODATA_ERROR: TEST/Orders: HTTP 500: X "down"' });
    const errors = await registry.getSingleMetric('weir_erp_sync_errors_total')!.get();
    expect(errors.values).toEqual([{ labels: { feed: 'sap:TEST/Orders', code: 'ERP.ODATA_ERROR' }, value: 1 }]);
  });

  it('is not ready before the first successful poll, then until it is older than three intervals', async () => {
    const clock = { t: Date.parse('2026-11-25T09:00:00Z') };
    const { e } = await engine(new ScriptedFeed([]), clock);
    const [check] = e.healthChecks();
    expect(await check!.check()).toMatchObject({ ok: false, detail: 'no successful poll yet (started 0 s ago)' });
    await e.pollNow();
    clock.t += 180_000;
    expect(await check!.check()).toEqual({ ok: true, detail: 'last successful poll 180 s ago (limit 180 s)' });
    clock.t += 1000;
    expect((await check!.check()).ok).toBe(false);
  });

  it('reconciles with a full read once the interval has passed', async () => {
    const clock = { t: Date.parse('2026-11-25T09:00:00Z') };
    const feed = new ScriptedFeed([() => ({ upserts: {}, deletions: {}, nextSince: '2026-11-25T08:00:00.000Z' })], 3_600_000);
    const { e } = await engine(feed, clock);
    await e.pollNow();
    clock.t += 1_800_000;
    await e.pollNow();
    clock.t += 1_800_000;
    await e.pollNow();
    expect(feed.calls.map((c) => c.full)).toEqual([true, false, true]);
  });
});
