import { Inject, Injectable } from '@nestjs/common';
import type { AssetLimits, StoredWorkOrderRow } from '@weir/detection';
import { Db } from '../common/db';

/** A keyset position in one stored event table: the last row's time (µs text) and its tie-breaking key. */
export interface PageAfter {
  time: string;
  k1: string | number;
  k2: string | number;
}

/** One stored OT or IT event: its time and the whole message. */
export interface StoredEventRow {
  time: string;
  k1: string;
  k2: string;
  event: unknown;
}

/** One stored numeric sample with its series and the asset version and work order valid at its time. */
export interface StoredSampleDbRow {
  time: string;
  series_id: number;
  seq: string;
  origin: 'opcua' | 'historian' | 'file';
  value: number | null;
  status: string;
  source_id: string;
  node_id: string;
  browse_path: string | null;
  asset_id: string;
  asset_path: string;
  asset_name: string | null;
  asset_level: string | null;
  limits: AssetLimits | null;
  work_order_id: string | null;
  work_order_type: string | null;
  work_order_status: string | null;
}

const ISO_US = `'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'`;

/**
 * Reads what a retro-hunt replays, in time order and in pages (keyset on each table's time and unique key), so a
 * hunt holds at most one page per input in memory: OT events, IT security events, numeric samples of series whose
 * asset has safe limits (with the context as of each sample), and the work orders of the range.
 */
@Injectable()
export class HuntRepository {
  constructor(@Inject(Db) private readonly db: Db) {}

  /** A page of `ot_events` in [from, to) after `after`, by (time, source_id, event_id). */
  otEvents(from: Date, to: Date, after: PageAfter | null, limit: number): Promise<StoredEventRow[]> {
    return this.db.query<StoredEventRow>(
      `SELECT to_char(e.time AT TIME ZONE 'UTC', ${ISO_US}) AS time, e.source_id AS k1, e.event_id AS k2, e.event
         FROM ot_events e
        WHERE e.time >= $1 AND e.time < $2
          AND ($3::timestamptz IS NULL OR (e.time, e.source_id, e.event_id) > ($3::timestamptz, $4::text, $5::text))
        ORDER BY e.time, e.source_id, e.event_id
        LIMIT $6`,
      [from, to, after?.time ?? null, after?.k1 ?? null, after?.k2 ?? null, limit],
    );
  }

  /** A page of `security_events` in [from, to) after `after`, by (time, product_name, uid). */
  securityEvents(from: Date, to: Date, after: PageAfter | null, limit: number): Promise<StoredEventRow[]> {
    return this.db.query<StoredEventRow>(
      `SELECT to_char(e.time AT TIME ZONE 'UTC', ${ISO_US}) AS time, e.product_name AS k1, e.uid AS k2, e.event
         FROM security_events e
        WHERE e.time >= $1 AND e.time < $2
          AND ($3::timestamptz IS NULL OR (e.time, e.product_name, e.uid) > ($3::timestamptz, $4::text, $5::text))
        ORDER BY e.time, e.product_name, e.uid
        LIMIT $6`,
      [from, to, after?.time ?? null, after?.k1 ?? null, after?.k2 ?? null, limit],
    );
  }

  /** Series whose asset has (in some version) safe limits: the only samples a limit rule can use. */
  limitedSeries(): Promise<{ id: number; node_id: string; limits: AssetLimits[] }[]> {
    return this.db.query(
      `SELECT s.id, s.node_id, array_agg(a.limits) AS limits
         FROM series s JOIN assets a ON a.id = s.asset_id
        WHERE a.limits IS NOT NULL AND a.limits <> '{}'::jsonb
        GROUP BY s.id, s.node_id`,
    );
  }

  /**
   * A page of numeric samples of `seriesIds` in [from, to) after `after`, by (time, series_id, seq), each with the
   * asset version valid at its time (the enricher's "as of" lookup) and the work order open on that asset then
   * (latest-starting, not cancelled). Samples whose asset the register does not know at their time are left out:
   * the enricher gave them no limits.
   */
  samples(seriesIds: number[], from: Date, to: Date, after: PageAfter | null, limit: number): Promise<StoredSampleDbRow[]> {
    return this.db.query<StoredSampleDbRow>(
      `SELECT to_char(t.time AT TIME ZONE 'UTC', ${ISO_US}) AS time, t.series_id, t.seq::text AS seq, t.origin::text AS origin, t.value, t.status::text AS status,
              s.source_id, s.node_id, s.browse_path, s.asset_id, a.path AS asset_path, a.name AS asset_name, a.level::text AS asset_level, a.limits,
              w.id AS work_order_id, w.type AS work_order_type, w.status::text AS work_order_status
         FROM telemetry t
         JOIN series s ON s.id = t.series_id
         JOIN LATERAL (SELECT a.path, a.name, a.level, a.limits FROM assets a WHERE a.id = s.asset_id AND a.validity @> t.time ORDER BY a.valid_from DESC LIMIT 1) a ON true
         LEFT JOIN LATERAL (SELECT w.id, w.type, w.status FROM work_orders w WHERE w.asset_id = s.asset_id AND w.validity @> t.time AND w.status <> 'cancelled' ORDER BY w.valid_from DESC LIMIT 1) w ON true
        WHERE t.series_id = ANY ($1::int[]) AND t.time >= $2 AND t.time < $3
          AND ($4::timestamptz IS NULL OR (t.time, t.series_id, t.seq) > ($4::timestamptz, $5::int, $6::bigint))
        ORDER BY t.time, t.series_id, t.seq
        LIMIT $7`,
      [seriesIds, from, to, after?.time ?? null, after?.k1 ?? null, after?.k2 ?? null, limit],
    );
  }

  /** Every work order version whose validity overlaps [from, to) (open-ended ones included), at most `limit`. */
  async workOrders(from: Date, to: Date, limit: number): Promise<StoredWorkOrderRow[]> {
    const rows = await this.db.query<{ id: string; valid_from: string; valid_to: string | null; asset_id: string; status: string; changed_at: string }>(
      `SELECT w.id, to_char(w.valid_from AT TIME ZONE 'UTC', ${ISO_US}) AS valid_from, to_char(w.valid_to AT TIME ZONE 'UTC', ${ISO_US}) AS valid_to,
              w.asset_id, w.status::text AS status, to_char(w.changed_at AT TIME ZONE 'UTC', ${ISO_US}) AS changed_at
         FROM work_orders w
        WHERE w.validity && tstzrange($1, $2, '[)')
        ORDER BY w.valid_from, w.id
        LIMIT $3`,
      [from, to, limit],
    );
    return rows.map((r) => ({ id: r.id, validFrom: r.valid_from, validTo: r.valid_to, assetId: r.asset_id, status: r.status, changedAt: r.changed_at }));
  }

  /** Ids of the current assets of these sites. */
  async assetsOfSites(sites: string[]): Promise<Set<string>> {
    const rows = await this.db.query<{ asset_id: string }>(`SELECT k.asset_id FROM kpi.assets k WHERE k.site_id = ANY ($1)`, [sites]);
    return new Set(rows.map((r) => r.asset_id));
  }
}
