import type { ErpAssetV1 } from '@weir/contracts';
import type { Isa95Level } from '@weir/domain';

/**
 * An asset as an adapter reads it, before its place in the tree is known:
 * `path` and, for functional locations, `level` follow from the ancestors
 * (see AssetCatalog), which may arrive in the same poll, an earlier one or a later one.
 */
export interface AssetDraft extends Omit<ErpAssetV1, 'level' | 'path'> {
  /** The level when the adapter knows it (equipment category rules, a file's level column); otherwise from the depth in the tree. */
  level?: Isa95Level;
  /** A path given by the source (a file's path column); otherwise built from the ancestors' ids. */
  path?: string;
}
