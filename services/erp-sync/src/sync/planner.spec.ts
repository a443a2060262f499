import type { ErpWorkOrderV1 } from '@weir/contracts';
import { describe, expect, it } from 'vitest';
import type { AssetDraft } from '../assets/asset-draft';
import { planAssetTree } from '../assets/asset-catalog';
import type { ChangeSet } from './change-set';
import { contentHash, planSync, type PlanOptions } from './planner';
import { validateMessage } from './publisher';
import { emptyState, type SyncStateDoc } from './state-store';

const changedAt = '2026-11-25T08:00:00Z';
const node = (id: string, parentId: string | null, extra: Partial<AssetDraft> = {}): AssetDraft => ({ id, parentId, name: id, validFrom: '2020-01-01T00:00:00Z', validTo: null, changedAt, attributes: {}, ...extra });
const order = (id: string, status: ErpWorkOrderV1['status'] = 'released'): ErpWorkOrderV1 => ({ id, assetId: 'filler1', type: 'PM01', status, validFrom: changedAt, validTo: null, changedAt, attributes: {} });
const options: PlanOptions = { full: false, tree: { enterprise: 'acme', levelByDepth: ['site', 'area', 'line'] }, validate: validateMessage };
const cs = (partial: Partial<ChangeSet>): ChangeSet => ({ upserts: {}, deletions: {}, ...partial });

function run(doc: SyncStateDoc, feed: string, change: ChangeSet, opts: PlanOptions = options) {
  const plan = planSync(doc, feed, change, opts);
  plan.apply(doc, new Date('2026-11-25T09:00:00Z'));
  return plan.messages.map((m) => (m.value === null ? `-${m.id}` : m.kind === 'assets' ? `${m.id}@${m.value.path}:${m.value.level}` : m.id));
}

describe('the asset tree', () => {
  it('builds paths from ancestor ids and levels from depth, parents first', () => {
    const doc = emptyState();
    expect(run(doc, 'sap:fl', cs({ upserts: { assets: [node('1710-SPA-L1', '1710-SPA'), node('1710', null), node('1710-SPA', '1710')] } }))).toEqual(['1710@acme/1710:site', '1710-SPA@acme/1710/1710-SPA:area', '1710-SPA-L1@acme/1710/1710-SPA/1710-SPA-L1:line']);
  });

  it('keeps a level the adapter gave and uses the last level for deeper nodes', () => {
    const plan = planAssetTree(new Map(), 'f', [node('a', null), node('b', 'a'), node('c', 'b'), node('d', 'c'), node('m', 'd', { level: 'machine' })], [], { levelByDepth: ['site', 'line'] });
    expect(Object.fromEntries(plan.affected.map((a) => [a.record.id, `${a.record.path}:${a.record.level}`]))).toEqual({ a: 'a:site', b: 'a/b:line', c: 'a/b/c:line', d: 'a/b/c/d:line', m: 'a/b/c/d/m:machine' });
  });

  it('re-paths the descendants of a moved node, also those of other feeds', () => {
    const doc = emptyState();
    run(doc, 'sap:fl', cs({ upserts: { assets: [node('site', null), node('areaA', 'site'), node('areaB', 'site'), node('line1', 'areaA')] } }));
    run(doc, 'sap:eq', cs({ upserts: { assets: [node('filler1', 'line1', { level: 'machine' })] } }));
    // line1 moves from area A to area B: the machine under it, owned by the equipment feed, moves too.
    expect(run(doc, 'sap:fl', cs({ upserts: { assets: [node('line1', 'areaB')] } }))).toEqual(['line1@acme/site/areaB/line1:line', 'filler1@acme/site/areaB/line1/filler1:machine']);
    expect(doc.feeds['sap:eq']!.published.assets!['filler1']).toBeDefined();
  });

  it('escapes slashes in ids and survives a parent cycle', () => {
    const plan = planAssetTree(new Map(), 'f', [node('A/1', null), node('x', 'y'), node('y', 'x')], [], { levelByDepth: ['site'] });
    const paths = Object.fromEntries(plan.affected.map((a) => [a.record.id, a.record.path]));
    expect(paths['A/1']).toBe('A%2F1');
    expect(paths['x']).toMatch(/^(y\/x|x)$/);
  });
});

describe('planning a change set', () => {
  it('does not republish records whose content did not change', () => {
    const doc = emptyState();
    expect(run(doc, 'sap:mo', cs({ upserts: { workOrders: [order('1'), order('2')] } }))).toEqual(['1', '2']);
    expect(run(doc, 'sap:mo', cs({ upserts: { workOrders: [order('1'), order('2', 'completed')] } }))).toEqual(['2']);
  });

  it('tombstones deletions of published ids only (any on a first run)', () => {
    const doc = emptyState();
    expect(run(doc, 'sap:mo', cs({ upserts: { workOrders: [order('1')] }, deletions: { workOrders: ['9'] } }))).toEqual(['-9', '1']);
    expect(run(doc, 'sap:mo', cs({ deletions: { workOrders: ['1', '8'] } }))).toEqual(['-1']);
    expect(doc.feeds['sap:mo']!.published.workOrders).toEqual({});
  });

  it('tombstones what a snapshot no longer has', () => {
    const doc = emptyState();
    run(doc, 'sap:mo', cs({ upserts: { workOrders: [order('1'), order('2'), order('3')] } }));
    expect(run(doc, 'sap:mo', cs({ upserts: { workOrders: [order('1'), order('3')] }, snapshot: { kinds: ['workOrders'] } }), { ...options, full: true })).toEqual(['-2']);
    expect(doc.feeds['sap:mo']!.lastFullAt).toBe('2026-11-25T09:00:00.000Z');
  });

  it('removes deleted assets from the tree and re-paths their children', () => {
    const doc = emptyState();
    run(doc, 'files', cs({ upserts: { assets: [node('s', null, { level: 'site' }), node('l', 's', { level: 'line' })] } }));
    expect(run(doc, 'files', cs({ deletions: { assets: ['s'] } }))).toEqual(['-s']);
    expect(Object.keys(doc.assets)).toEqual(['l']);
  });

  it('leaves the state alone until applied, and only moves the checkpoint forward', () => {
    const doc = emptyState();
    planSync(doc, 'sap:mo', cs({ upserts: { workOrders: [order('1')] }, nextSince: '2026-11-25T08:00:00.000Z' }), options);
    expect(doc).toEqual(emptyState());
    run(doc, 'sap:mo', cs({ nextSince: '2026-11-25T08:00:00.000Z' }));
    run(doc, 'sap:mo', cs({ nextSince: '2026-11-25T07:00:00.000Z' }));
    expect(doc.feeds['sap:mo']!.since).toBe('2026-11-25T08:00:00.000Z');
  });

  it('skips records that do not fit the topic schema and reports them', () => {
    const doc = emptyState();
    const plan = planSync(doc, 'files', cs({ upserts: { workOrders: [order('1'), { ...order('2'), status: 'maybe' as never }] } }), options);
    expect(plan.messages.map((m) => m.id)).toEqual(['1']);
    expect(plan.invalid).toEqual([{ kind: 'workOrders', id: '2', reason: expect.stringMatching(/^status: Invalid option/) }]);
  });

  it('hashes content independently of key order and ignores named fields', () => {
    expect(contentHash({ a: 1, b: { c: 2, d: 3 } })).toBe(contentHash({ b: { d: 3, c: 2 }, a: 1 }));
    expect(contentHash({ a: 1, changedAt: 'x' }, ['changedAt'])).toBe(contentHash({ a: 1, changedAt: 'y' }, ['changedAt']));
  });
});
