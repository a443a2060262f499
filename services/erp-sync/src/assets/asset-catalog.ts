import type { ErpAssetV1 } from '@weir/contracts';
import type { Isa95Level } from '@weir/domain';
import type { AssetDraft } from './asset-draft';

/** An asset as kept between polls: the feed that owns it and what it said. */
export interface StoredAsset {
  feed: string;
  draft: AssetDraft;
}

/** How paths and levels are built. */
export interface AssetTreeOptions {
  /** First path segment of every asset (the ISA-95 enterprise), e.g. `acme`; none when absent. */
  enterprise?: string;
  /**
   * Level of an asset that did not bring one (functional locations without a
   * category rule), by its depth in the tree: the first entry for a root, the
   * second for its children, and so on; the last entry for anything deeper.
   */
  levelByDepth: readonly Isa95Level[];
}

/** What a set of changes does to the tree. */
export interface AssetTreePlan {
  /** The tree after the changes; becomes the stored one once published. */
  next: Map<string, StoredAsset>;
  /** Every asset whose message may have changed (the changed ones and all their descendants), with its owner feed. */
  affected: { feed: string; record: ErpAssetV1 }[];
  /** Ids removed. */
  removed: string[];
}

// A slash inside an id would split it into two path segments.
const segment = (id: string): string => id.replace(/%/g, '%25').replace(/\//g, '%2F');

/**
 * Applies upserts and deletions of one feed to the tree and works out the
 * messages they touch. Paths are built from the ancestors' ids (an ancestor
 * that is not known ends the walk with its id), so moving a functional location
 * re-paths everything below it; a cycle in the parent links stops the walk
 * where it closes. Pure: `base` is not changed.
 */
export function planAssetTree(base: ReadonlyMap<string, StoredAsset>, feed: string, upserts: readonly AssetDraft[], deletions: readonly string[], options: AssetTreeOptions): AssetTreePlan {
  const next = new Map(base);
  const changed = new Set<string>();
  const removed: string[] = [];
  for (const id of deletions) {
    if (next.delete(id)) changed.add(id);
    removed.push(id);
  }
  for (const draft of upserts) {
    next.set(draft.id, { feed, draft });
    changed.add(draft.id);
  }

  const children = new Map<string, string[]>();
  for (const [id, { draft }] of next) {
    if (draft.parentId === null) continue;
    const list = children.get(draft.parentId);
    if (list) list.push(id);
    else children.set(draft.parentId, [id]);
  }

  // Everything below a changed node may have a new path or level.
  const affectedIds = new Set<string>();
  const queue = [...changed];
  while (queue.length > 0) {
    const id = queue.pop()!;
    if (affectedIds.has(id)) continue;
    affectedIds.add(id);
    for (const child of children.get(id) ?? []) queue.push(child);
  }

  const placed = new Map<string, { path: string; depth: number }>();
  const place = (id: string, visiting: Set<string>): { path: string; depth: number } => {
    const done = placed.get(id);
    if (done) return done;
    const stored = next.get(id);
    const prefix = options.enterprise ? `${segment(options.enterprise)}/` : '';
    let result: { path: string; depth: number };
    if (!stored) {
      result = { path: `${prefix}${segment(id)}`, depth: 1 };
    } else if (stored.draft.path) {
      result = { path: stored.draft.path, depth: stored.draft.path.split('/').length - (options.enterprise ? 1 : 0) };
    } else if (stored.draft.parentId === null || visiting.has(stored.draft.parentId)) {
      result = { path: `${prefix}${segment(id)}`, depth: 1 };
    } else {
      visiting.add(id);
      const parent = place(stored.draft.parentId, visiting);
      visiting.delete(id);
      result = { path: `${parent.path}/${segment(id)}`, depth: parent.depth + 1 };
    }
    placed.set(id, result);
    return result;
  };

  const affected: { feed: string; record: ErpAssetV1 }[] = [];
  for (const id of affectedIds) {
    const stored = next.get(id);
    if (!stored) continue;
    const { path, depth } = place(id, new Set([id]));
    const { level: draftLevel, path: _draftPath, ...rest } = stored.draft;
    const byDepth = options.levelByDepth[Math.min(depth, options.levelByDepth.length) - 1] ?? 'equipment';
    affected.push({ feed: stored.feed, record: { ...rest, level: draftLevel ?? byDepth, path } });
  }
  return { next, affected, removed };
}
