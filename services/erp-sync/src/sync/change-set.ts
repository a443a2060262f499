import type { ErpProductionOrderV1, ErpShiftV1, ErpWorkOrderV1 } from '@weir/contracts';
import type { AssetDraft } from '../assets/asset-draft';

/** The four ERP topics, by the name used in state, metrics and logs. */
export type EntityKind = 'assets' | 'workOrders' | 'productionOrders' | 'shifts';

/** Every entity kind, in the order they are published within one change set (parents before what refers to them). */
export const ENTITY_KINDS: readonly EntityKind[] = ['assets', 'workOrders', 'productionOrders', 'shifts'];

/** What a feed reads for each kind. */
export interface EntityRecords {
  assets: AssetDraft;
  workOrders: ErpWorkOrderV1;
  productionOrders: ErpProductionOrderV1;
  shifts: ErpShiftV1;
}

/**
 * What one fetch of a feed found. Deletions become tombstones. A snapshot says
 * the upserts are everything that exists (within `covers`): ids this feed
 * published before and did not see now are deleted. Only the checkpoint
 * (`nextSince`) and the feed's own bookkeeping (`onPublished`) move after
 * everything in it was acknowledged by Kafka.
 */
export interface ChangeSet {
  upserts: { [K in EntityKind]?: EntityRecords[K][] };
  deletions: { [K in EntityKind]?: string[] };
  snapshot?: {
    kinds: readonly EntityKind[];
    /** Ids the snapshot speaks for; all of this feed's ids when absent. */
    covers?: (kind: EntityKind, id: string) => boolean;
    /** Ids to forget without a tombstone (shifts that left the rolling window: history, not deletions). */
    prune?: (kind: EntityKind, id: string) => boolean;
  };
  /** The checkpoint to store once published; unchanged when absent. */
  nextSince?: string;
  /** Records skipped because they could not be mapped (already logged with their ids). */
  skipped?: number;
  /** Runs after publish and checkpoint (the file feed moves the file to done/ here). */
  onPublished?: () => Promise<void>;
  /** True when the feed has more to give right away (more files waiting). */
  more?: boolean;
}

/** Options of one fetch. */
export interface FetchOptions {
  /** Read everything, not only what changed since the checkpoint (initial load, reconciliation). */
  full: boolean;
  signal?: AbortSignal;
}

/**
 * One adapter of the ERP side: SAP entity sets, a file drop, the shift calendar.
 * `fetchChanges(since)` returns what changed after `since` (everything when
 * `since` is undefined or `full` is set) and the checkpoint to continue from.
 */
export interface ErpFeed {
  /** Stable name; keys the checkpoint in the state file (`sap:API_EQUIPMENT/Equipment`, `files`, `shifts`). */
  readonly name: string;
  /** Kinds this feed produces. */
  readonly kinds: readonly EntityKind[];
  /** How often a full read reconciles the key set (deletions SAP's delta cannot show); never when absent. */
  readonly reconcileIntervalMs?: number;
  fetchChanges(since: string | undefined, options: FetchOptions): Promise<ChangeSet>;
}
