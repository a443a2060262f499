import type { Logger } from '@weir/observability';
import type { ChangeSet, EntityKind, EntityRecords, ErpFeed, FetchOptions } from '../sync/change-set';
import type { SyncMetrics } from '../sync/sync-metrics';
import type { ODataClient } from './odata-client';
import { dateTimeOffsetLiteral, parseODataDate } from './odata-values';
import type { Mapped, SapRecord } from './sap-mapping';

/** One SAP entity set read as a feed. */
export interface SapFeedOptions<K extends EntityKind> {
  client: ODataClient;
  /** OData service (`API_EQUIPMENT`). */
  service: string;
  /** Entity set (`Equipment`). */
  entitySet: string;
  kind: K;
  /** SAP to message; pure. */
  map: (row: SapRecord) => Mapped<EntityRecords[K]>;
  /** Runs over all rows of a fetch before mapping (equipment: one time segment per equipment). */
  prepare?: (rows: SapRecord[]) => SapRecord[];
  /** An extra `$filter` ANDed with the delta condition (`MaintenancePlanningPlant eq '1710'`). */
  filter?: string;
  expand?: readonly string[];
  /** Client-driven page size; server paging (`__next`) when absent. */
  pageSize?: number;
  /** How far before the checkpoint a delta reaches back, for changes committed late with an earlier timestamp; re-read records that did not change are not republished. */
  overlapMs: number;
  reconcileIntervalMs?: number;
  logger: Logger;
  metrics: SyncMetrics;
}

/**
 * An SAP entity set as a feed. A delta asks for
 * `LastChangeDateTime gt datetimeoffset'<checkpoint - overlap>'` and moves the
 * checkpoint to the newest LastChangeDateTime read. SAP's delta does not show
 * deleted records, so deletion flags (marked for deletion) become tombstones,
 * and a full read (the first one, then every `reconcileIntervalMs`) is a
 * snapshot: ids published before and missing now are tombstoned.
 */
export class SapFeed<K extends EntityKind> implements ErpFeed {
  readonly name: string;
  readonly kinds: readonly EntityKind[];
  readonly reconcileIntervalMs?: number;

  constructor(private readonly o: SapFeedOptions<K>) {
    this.name = `sap:${o.service}/${o.entitySet}`;
    this.kinds = [o.kind];
    if (o.reconcileIntervalMs !== undefined) this.reconcileIntervalMs = o.reconcileIntervalMs;
  }

  async fetchChanges(since: string | undefined, options: FetchOptions): Promise<ChangeSet> {
    const { o } = this;
    const conditions: string[] = [];
    if (o.filter) conditions.push(`(${o.filter})`);
    const delta = since !== undefined && !options.full;
    if (delta) conditions.push(`LastChangeDateTime gt ${dateTimeOffsetLiteral(new Date(Date.parse(since) - o.overlapMs).toISOString())}`);
    const query = {
      ...(conditions.length ? { filter: conditions.join(' and ') } : {}),
      ...(o.expand?.length ? { expand: o.expand } : {}),
      // Client paging with $skip needs a stable order; oldest first also matches the checkpoint.
      ...(o.pageSize ? { pageSize: o.pageSize, orderby: 'LastChangeDateTime asc' } : {}),
    };
    let rows: SapRecord[] = [];
    let pages = 0;
    for await (const page of o.client.pages(o.service, o.entitySet, query, options.signal)) {
      pages++;
      rows.push(...page.results);
    }
    let newest = since !== undefined ? Date.parse(since) : undefined;
    for (const r of rows) {
      const t = parseODataDate(r['LastChangeDateTime']);
      if (t !== undefined && (newest === undefined || t > newest)) newest = t;
    }
    if (o.prepare) rows = o.prepare(rows);

    // A record can appear twice (a change between two pages); the later occurrence is the newer one.
    const outcome = new Map<string, Mapped<EntityRecords[K]>>();
    let skipped = 0;
    for (const r of rows) {
      const m = o.map(r);
      if (m.kind === 'error') {
        skipped++;
        o.metrics.errors.inc({ feed: this.name, code: 'ERP.MAPPING_FAILED' });
        o.logger.error({ feed: this.name, id: m.id, code: 'ERP.MAPPING_FAILED', reason: m.reason }, 'SAP record skipped');
        continue;
      }
      outcome.delete(m.id);
      outcome.set(m.id, m);
    }
    const upserts: EntityRecords[K][] = [];
    const deletions: string[] = [];
    for (const m of outcome.values()) {
      if (m.kind === 'upsert') upserts.push(m.value);
      else if (m.kind === 'delete') deletions.push(m.id);
    }
    o.logger.debug({ feed: this.name, mode: delta ? 'delta' : 'full', pages, rows: rows.length, upserts: upserts.length, deletions: deletions.length, skipped }, 'read SAP entity set');
    return {
      upserts: { [o.kind]: upserts },
      deletions: { [o.kind]: deletions },
      ...(options.full ? { snapshot: { kinds: [o.kind] } } : {}),
      ...(newest !== undefined ? { nextSince: new Date(newest).toISOString() } : {}),
      skipped,
    } as ChangeSet;
  }
}
