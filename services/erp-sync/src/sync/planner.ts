import { createHash } from 'node:crypto';
import type { ErpAssetV1, ErpProductionOrderV1, ErpShiftV1, ErpWorkOrderV1 } from '@weir/contracts';
import { planAssetTree, type AssetTreeOptions, type StoredAsset } from '../assets/asset-catalog';
import { ENTITY_KINDS, type ChangeSet, type EntityKind } from './change-set';
import type { FeedState, SyncStateDoc } from './state-store';

/** A message as published: a value, or null for a tombstone. */
export type OutMessage =
  | { kind: 'assets'; id: string; value: ErpAssetV1 | null }
  | { kind: 'workOrders'; id: string; value: ErpWorkOrderV1 | null }
  | { kind: 'productionOrders'; id: string; value: ErpProductionOrderV1 | null }
  | { kind: 'shifts'; id: string; value: ErpShiftV1 | null };

/** What publishing a change set means: the messages, in order, and the state once they are acknowledged. */
export interface SyncPlan {
  messages: OutMessage[];
  /** Upserts that matched what was published before (not sent again). */
  unchanged: number;
  /** Upserts refused by the topic's schema (not sent, not remembered), with the reason. */
  invalid: { kind: EntityKind; id: string; reason: string }[];
  /** Moves the state forward; call only after every message was acknowledged. */
  apply(doc: SyncStateDoc, now: Date): void;
}

/** Options of planning. */
export interface PlanOptions {
  full: boolean;
  tree: AssetTreeOptions;
  /** Fields left out of the change-detection hash per kind (shifts: `changedAt`, which is the time of expansion). */
  hashIgnore?: Partial<Record<EntityKind, readonly string[]>>;
  /** Checks a message against its topic's schema; the reason when it is invalid. */
  validate?: (kind: EntityKind, value: unknown) => string | undefined;
}

function stable(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(stable).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stable(v)}`).join(',')}}`;
}

/** A short hash of a message's content (key order does not matter), for "has it changed since we published it?". */
export function contentHash(value: object, ignore: readonly string[] = []): string {
  const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  for (const k of ignore) delete copy[k];
  return createHash('sha256').update(stable(copy)).digest('base64url').slice(0, 22);
}

/**
 * Works out what a change set of one feed publishes: upserts whose content
 * differs from what this feed published last, tombstones for deletions of ids
 * it published (or any, on a feed's very first run, when nothing is known), and,
 * for a snapshot, tombstones for published ids that are gone. Assets go through
 * the tree so descendants of a moved or renamed node are re-pathed. Pure: the
 * state changes only through `apply`, after publishing.
 */
export function planSync(doc: SyncStateDoc, feedName: string, cs: ChangeSet, options: PlanOptions): SyncPlan {
  const feed: FeedState = doc.feeds[feedName] ?? { published: {} };
  const firstRun = feed.since === undefined && feed.lastFullAt === undefined && Object.values(feed.published).every((p) => !p || Object.keys(p).length === 0);
  // Published maps are copied on first write so an unpublished plan leaves the state untouched.
  const nextPublished = new Map<string, Map<EntityKind, Record<string, string>>>();
  const publishedOf = (owner: string, kind: EntityKind): Record<string, string> => {
    let byKind = nextPublished.get(owner);
    if (!byKind) nextPublished.set(owner, (byKind = new Map()));
    let map = byKind.get(kind);
    if (!map) byKind.set(kind, (map = { ...(doc.feeds[owner]?.published[kind] ?? {}) }));
    return map;
  };
  const messages: OutMessage[] = [];
  let unchanged = 0;
  const invalid: SyncPlan['invalid'] = [];
  const isValid = (kind: EntityKind, id: string, value: unknown): boolean => {
    const reason = options.validate?.(kind, value);
    if (reason !== undefined) invalid.push({ kind, id, reason });
    return reason === undefined;
  };
  let nextAssets: Map<string, StoredAsset> | undefined;

  for (const kind of ENTITY_KINDS) {
    const upserts = (cs.upserts[kind] ?? []) as { id: string }[];
    const deletions = [...(cs.deletions[kind] ?? [])];
    const hasSnapshot = cs.snapshot?.kinds.includes(kind) ?? false;
    if (upserts.length === 0 && deletions.length === 0 && !hasSnapshot) continue;
    const mine = publishedOf(feedName, kind);
    if (hasSnapshot) {
      const seen = new Set([...upserts.map((u) => u.id), ...deletions]);
      for (const id of Object.keys(mine)) {
        if (seen.has(id)) continue;
        if (cs.snapshot!.prune?.(kind, id)) delete mine[id];
        else if (cs.snapshot!.covers?.(kind, id) ?? true) deletions.push(id);
      }
    }
    // Deleting what was never published is a no-op, except on a first run: the topic may hold it from before the state.
    const tombstones = deletions.filter((id) => firstRun || id in mine);
    const ignore = options.hashIgnore?.[kind] ?? [];

    if (kind === 'assets') {
      const base = new Map(Object.entries(doc.assets));
      const dropped = new Set(tombstones);
      // Another feed's asset stays in the tree even if this feed names it as deleted.
      const removals = deletions.filter((id) => dropped.has(id) || base.get(id)?.feed === feedName);
      const plan = planAssetTree(base, feedName, cs.upserts.assets ?? [], removals, options.tree);
      nextAssets = plan.next;
      for (const id of tombstones) {
        messages.push({ kind, id, value: null });
        delete mine[id];
      }
      // Parents first, so a reader building the tree meets a node's parent before the node.
      const affected = [...plan.affected].sort((a, b) => a.record.path.split('/').length - b.record.path.split('/').length);
      for (const { feed: owner, record } of affected) {
        const map = publishedOf(owner, 'assets');
        const h = contentHash(record, ignore);
        if (map[record.id] === h) {
          unchanged++;
          continue;
        }
        if (!isValid(kind, record.id, record)) continue;
        map[record.id] = h;
        messages.push({ kind, id: record.id, value: record });
      }
      continue;
    }

    for (const id of tombstones) {
      messages.push({ kind, id, value: null } as OutMessage);
      delete mine[id];
    }
    for (const value of upserts) {
      const h = contentHash(value, ignore);
      if (mine[value.id] === h) {
        unchanged++;
        continue;
      }
      if (!isValid(kind, value.id, value)) continue;
      mine[value.id] = h;
      messages.push({ kind, id: value.id, value } as OutMessage);
    }
  }

  return {
    messages,
    unchanged,
    invalid,
    apply(target: SyncStateDoc, now: Date): void {
      for (const [owner, byKind] of nextPublished) {
        const state = (target.feeds[owner] ??= { published: {} });
        for (const [kind, map] of byKind) state.published[kind] = map;
      }
      const state = (target.feeds[feedName] ??= { published: {} });
      // The checkpoint only moves forward: a reconciliation that no longer sees the newest record must not rewind it.
      if (cs.nextSince !== undefined && (state.since === undefined || Date.parse(cs.nextSince) > Date.parse(state.since))) state.since = cs.nextSince;
      if (options.full) state.lastFullAt = now.toISOString();
      if (nextAssets) target.assets = Object.fromEntries(nextAssets);
    },
  };
}
