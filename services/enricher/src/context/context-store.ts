import type { ErpAssetV1, ErpProductionOrderV1, ErpShiftV1, ErpWorkOrderV1 } from '@weir/contracts';

/** The four ERP entity kinds the enricher keeps. */
export type ContextKind = 'asset' | 'productionOrder' | 'workOrder' | 'shift';

/** A record with a validity interval, times as ms since the epoch (`validTo` Infinity while open). */
interface Interval<T> {
  record: T;
  from: number;
  to: number;
}

// Orders that never ran (or were withdrawn) are not context, whatever their dates say.
const INACTIVE = new Set(['cancelled']);

function interval<T extends { validFrom: string; validTo?: string | null | undefined }>(record: T): Interval<T> {
  return { record, from: Date.parse(record.validFrom), to: record.validTo ? Date.parse(record.validTo) : Number.POSITIVE_INFINITY };
}

/**
 * The instants around a lookup between which its answer cannot change: no boundary of any
 * interval the lookup looked at lies in `[lo, hi)`. Lookups narrow it; a caller may reuse the
 * answer for any instant in it while the store is unchanged.
 */
export interface StableWindow {
  lo: number;
  hi: number;
}

/** A window that any lookup narrows. */
export function openWindow(): StableWindow {
  return { lo: Number.NEGATIVE_INFINITY, hi: Number.POSITIVE_INFINITY };
}

// Narrows `w` by the boundaries of `[from, to)` as seen from `t`.
function narrow(w: StableWindow | undefined, from: number, to: number, t: number): void {
  if (!w) return;
  if (from <= t) w.lo = Math.max(w.lo, from);
  else w.hi = Math.min(w.hi, from);
  if (to <= t) w.lo = Math.max(w.lo, to);
  else w.hi = Math.min(w.hi, to);
}

/** The latest-starting interval of `list` that contains `t` (half-open: from <= t < to). */
function asOf<T>(list: readonly Interval<T>[] | undefined, t: number, w?: StableWindow): T | undefined {
  if (!list) return undefined;
  let best: Interval<T> | undefined;
  for (const i of list) {
    narrow(w, i.from, i.to, t);
    if (i.from <= t && t < i.to && (!best || i.from > best.from)) best = i;
  }
  return best?.record;
}

/**
 * An index of entities grouped by an owner (asset, line, site), replaceable by
 * id: the compacted topics carry the latest version of each id, so an update
 * replaces the previous version and a tombstone removes it.
 */
class GroupedIndex<T extends { id: string; validFrom: string; validTo?: string | null | undefined }> {
  private readonly byId = new Map<string, { owner: string; entry: Interval<T> }>();
  private readonly byOwner = new Map<string, Interval<T>[]>();

  constructor(private readonly ownerOf: (record: T) => string) {}

  get size(): number {
    return this.byId.size;
  }

  put(record: T): void {
    this.remove(record.id);
    const owner = this.ownerOf(record);
    const entry = interval(record);
    this.byId.set(record.id, { owner, entry });
    const list = this.byOwner.get(owner);
    if (list) list.push(entry);
    else this.byOwner.set(owner, [entry]);
  }

  remove(id: string): void {
    const old = this.byId.get(id);
    if (!old) return;
    this.byId.delete(id);
    const list = this.byOwner.get(old.owner);
    if (!list) return;
    const at = list.indexOf(old.entry);
    if (at >= 0) list.splice(at, 1);
    if (list.length === 0) this.byOwner.delete(old.owner);
  }

  asOf(owner: string, t: number, w?: StableWindow): T | undefined {
    return asOf(this.byOwner.get(owner), t, w);
  }
}

/**
 * The ERP context as local state: assets by id, production and work orders by
 * asset, shifts by site, each with its validity interval, looked up "as of" an
 * instant. Pure and synchronous; the loader feeds it from the compacted topics.
 */
export class ContextStore {
  // Parsed once per version: lookups run per sample.
  private readonly assets = new Map<string, Interval<ErpAssetV1>>();
  private readonly productionOrders = new GroupedIndex<ErpProductionOrderV1>((o) => o.assetId);
  private readonly workOrders = new GroupedIndex<ErpWorkOrderV1>((o) => o.assetId);
  private readonly shifts = new GroupedIndex<ErpShiftV1>((s) => s.siteId);
  private versionCount = 0;

  /** Number of records applied so far (updates and tombstones included), for the "context versions loaded" counter. */
  get versionsApplied(): number {
    return this.versionCount;
  }

  /** Records currently held, per kind. */
  sizes(): Record<ContextKind, number> {
    return { asset: this.assets.size, productionOrder: this.productionOrders.size, workOrder: this.workOrders.size, shift: this.shifts.size };
  }

  /** Applies one record of a compacted topic: the latest version of `id`, or its deletion (`record` null). */
  apply(kind: 'asset', id: string, record: ErpAssetV1 | null): void;
  apply(kind: 'productionOrder', id: string, record: ErpProductionOrderV1 | null): void;
  apply(kind: 'workOrder', id: string, record: ErpWorkOrderV1 | null): void;
  apply(kind: 'shift', id: string, record: ErpShiftV1 | null): void;
  apply(kind: ContextKind, id: string, record: ErpAssetV1 | ErpProductionOrderV1 | ErpWorkOrderV1 | ErpShiftV1 | null): void {
    this.versionCount++;
    switch (kind) {
      case 'asset':
        if (record) this.assets.set(id, interval(record as ErpAssetV1));
        else this.assets.delete(id);
        return;
      case 'productionOrder':
        if (record && !INACTIVE.has((record as ErpProductionOrderV1).status)) this.productionOrders.put(record as ErpProductionOrderV1);
        else this.productionOrders.remove(id);
        return;
      case 'workOrder':
        if (record && !INACTIVE.has((record as ErpWorkOrderV1).status)) this.workOrders.put(record as ErpWorkOrderV1);
        else this.workOrders.remove(id);
        return;
      case 'shift':
        if (record) this.shifts.put(record as ErpShiftV1);
        else this.shifts.remove(id);
        return;
    }
  }

  /**
   * The asset and its ancestors (nearest first), as of `t`. An asset record
   * outside its validity at `t` is treated as absent, and so the chain stops there.
   * Every lookup takes an optional window that it narrows (see {@link StableWindow}).
   */
  lineage(assetId: string, t: number, w?: StableWindow): ErpAssetV1[] {
    const chain: ErpAssetV1[] = [];
    const seen = new Set<string>();
    for (let id: string | null = assetId; id !== null && !seen.has(id); ) {
      seen.add(id);
      const a = this.assets.get(id);
      if (!a) break;
      narrow(w, a.from, a.to, t);
      if (t < a.from || t >= a.to) break;
      chain.push(a.record);
      id = a.record.parentId;
    }
    return chain;
  }

  /** The production order running at `t` on the asset or its nearest ancestor that has one (usually the line). */
  productionOrderAsOf(lineage: readonly ErpAssetV1[], t: number, w?: StableWindow): ErpProductionOrderV1 | undefined {
    for (const a of lineage) {
      const o = this.productionOrders.asOf(a.id, t, w);
      if (o) return o;
    }
    return undefined;
  }

  /** The maintenance work order open on the asset itself at `t`. */
  workOrderAsOf(assetId: string, t: number, w?: StableWindow): ErpWorkOrderV1 | undefined {
    return this.workOrders.asOf(assetId, t, w);
  }

  /** The shift at the site at `t`. */
  shiftAsOf(siteId: string, t: number, w?: StableWindow): ErpShiftV1 | undefined {
    return this.shifts.asOf(siteId, t, w);
  }
}

/** True when `record` is valid at `t` (half-open interval). */
export function validAt(record: { validFrom: string; validTo?: string | null | undefined }, t: number): boolean {
  return Date.parse(record.validFrom) <= t && (!record.validTo || t < Date.parse(record.validTo));
}
