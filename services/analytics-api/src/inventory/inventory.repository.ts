import { Inject, Injectable } from '@nestjs/common';
import type { JsonValue } from '@weir/contracts';
import { Db } from '../common/db';

/** The latest connection event of one OPC UA source (server) in the window, and the latest successful connect. */
export interface SourceConnectionRow {
  source_id: string;
  last_type: string | null;
  last_time: string | null;
  connected_time: string | null;
  connected_attributes: Record<string, JsonValue> | null;
  last_event_time: string | null;
  ot_events: string;
}

/** Telemetry of one source: series, series without an asset, when the newest sample was seen. */
export interface SourceSeriesRow {
  source_id: string;
  series: string;
  unmapped_series: string;
  last_seen: string | null;
  asset_ids: string[];
}

/** One OPC UA client of one source, from audit events: address host, application, users, security policies. */
export interface ClientRow {
  source_id: string;
  client_host: string | null;
  client_application_uri: string | null;
  first_seen: string;
  last_seen: string;
  events: string;
  users: string[];
  security_policy_uris: string[];
  event_types: string[];
}

/** One asset of the register (current) with when data and events of it were last seen. */
export interface RegisteredAssetRow {
  asset_id: string;
  name: string;
  level: string;
  path: string;
  site_id: string | null;
  series: string;
  last_data: string | null;
}

const ISO = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;
// The host part of a client address (`opc.tcp://10.0.0.5:4840`, `10.0.0.5:51234`, `[fe80::1]:4840`), as the detection normaliser compares it.
const HOST_OF = (col: string): string => `(WITH p AS (SELECT regexp_replace(regexp_replace(${col}, '^[a-z.]+://', '', 'i'), '/.*$', '') AS hp)
  SELECT CASE WHEN hp ~ '^\\[' THEN substring(hp from '^\\[([^\\]]*)\\]') WHEN hp ~ '^[^:]*:[0-9]+$' THEN split_part(hp, ':', 1) ELSE hp END FROM p)`;

/** Reads what the inventory reconciles: connector connection events, audit sessions, the series dictionary and the asset register. */
@Injectable()
export class InventoryRepository {
  constructor(@Inject(Db) private readonly db: Db) {}

  /** Per source with OT events in [from, to): its latest connection event, its latest connect (with the endpoint attributes) and its latest event. */
  sourceConnections(from: Date, to: Date): Promise<SourceConnectionRow[]> {
    return this.db.query<SourceConnectionRow>(
      `WITH ev AS (SELECT e.source_id, max(e.time) AS last_event, count(*) AS n FROM ot_events e WHERE e.time >= $1 AND e.time < $2 GROUP BY e.source_id),
            conn AS (SELECT DISTINCT ON (e.source_id) e.source_id, e.type, e.time FROM ot_events e
                      WHERE e.kind = 'connection' AND e.time >= $1 AND e.time < $2 ORDER BY e.source_id, e.time DESC),
            ok AS (SELECT DISTINCT ON (e.source_id) e.source_id, e.time, e.event -> 'attributes' AS attributes FROM ot_events e
                    WHERE e.kind = 'connection' AND e.type IN ('connector.connected', 'connector.reconnected') AND e.time >= $1 AND e.time < $2 ORDER BY e.source_id, e.time DESC)
       SELECT ev.source_id, conn.type AS last_type, to_char(conn.time AT TIME ZONE 'UTC', ${ISO}) AS last_time,
              to_char(ok.time AT TIME ZONE 'UTC', ${ISO}) AS connected_time, ok.attributes AS connected_attributes,
              to_char(ev.last_event AT TIME ZONE 'UTC', ${ISO}) AS last_event_time, ev.n::text AS ot_events
         FROM ev LEFT JOIN conn USING (source_id) LEFT JOIN ok USING (source_id)
        ORDER BY ev.source_id`,
      [from, to],
    );
  }

  /** Per source in the series dictionary: its series, those without an asset, the newest sample seen, its assets. */
  sourceSeries(): Promise<SourceSeriesRow[]> {
    return this.db.query<SourceSeriesRow>(
      `SELECT s.source_id, count(*)::text AS series, count(*) FILTER (WHERE s.asset_id IS NULL)::text AS unmapped_series,
              to_char(max(s.last_seen) AT TIME ZONE 'UTC', ${ISO}) AS last_seen,
              coalesce(array_agg(DISTINCT s.asset_id) FILTER (WHERE s.asset_id IS NOT NULL), '{}') AS asset_ids
         FROM series s GROUP BY s.source_id ORDER BY s.source_id`,
    );
  }

  /** Per asset named by the series dictionary: its newest sample and its sources. */
  seriesAssets(): Promise<{ asset_id: string; last_seen: string; sources: string[] }[]> {
    return this.db.query(
      `SELECT s.asset_id, to_char(max(s.last_seen) AT TIME ZONE 'UTC', ${ISO}) AS last_seen, array_agg(DISTINCT s.source_id) AS sources
         FROM series s WHERE s.asset_id IS NOT NULL GROUP BY s.asset_id`,
    );
  }

  /** OPC UA clients seen in audit events of [from, to), by source, client host and application URI. */
  clients(from: Date, to: Date, limit: number): Promise<ClientRow[]> {
    return this.db.query<ClientRow>(
      `SELECT e.source_id, ${HOST_OF('e.actor_client_address')} AS client_host, e.event -> 'actor' ->> 'clientApplicationUri' AS client_application_uri,
              to_char(min(e.time) AT TIME ZONE 'UTC', ${ISO}) AS first_seen, to_char(max(e.time) AT TIME ZONE 'UTC', ${ISO}) AS last_seen, count(*)::text AS events,
              coalesce((array_agg(DISTINCT e.actor_user) FILTER (WHERE e.actor_user IS NOT NULL))[1:50], '{}') AS users,
              coalesce(array_agg(DISTINCT coalesce(e.event -> 'attributes' ->> 'SecurityPolicyUri', e.event -> 'attributes' ->> 'securityPolicyUri'))
                         FILTER (WHERE coalesce(e.event -> 'attributes' ->> 'SecurityPolicyUri', e.event -> 'attributes' ->> 'securityPolicyUri') <> ''), '{}') AS security_policy_uris,
              coalesce((array_agg(DISTINCT e.type))[1:20], '{}') AS event_types
         FROM ot_events e
        WHERE e.kind = 'audit' AND e.time >= $1 AND e.time < $2
          AND (e.actor_client_address IS NOT NULL OR e.event -> 'actor' ->> 'clientApplicationUri' IS NOT NULL)
        GROUP BY 1, 2, 3
        ORDER BY 1, 2, 3
        LIMIT $3`,
      [from, to, limit],
    );
  }

  /** Distinct (source, node) of OT events in [from, to) with their latest time, to map them to assets. */
  eventNodes(from: Date, to: Date, limit: number): Promise<{ source_id: string; node_id: string; browse_path: string | null; last_time: string }[]> {
    return this.db.query(
      `SELECT e.source_id, e.node_id, max(e.browse_path) AS browse_path, to_char(max(e.time) AT TIME ZONE 'UTC', ${ISO}) AS last_time
         FROM ot_events e WHERE e.time >= $1 AND e.time < $2 AND e.node_id IS NOT NULL
        GROUP BY e.source_id, e.node_id ORDER BY 1, 2 LIMIT $3`,
      [from, to, limit],
    );
  }

  /** The current asset register (of the sites, or all) with its series and their newest sample. */
  registeredAssets(sites: string[] | null): Promise<RegisteredAssetRow[]> {
    return this.db.query<RegisteredAssetRow>(
      `SELECT k.asset_id, k.name, k.level::text AS level, k.path, k.site_id, count(s.id)::text AS series, to_char(max(s.last_seen) AT TIME ZONE 'UTC', ${ISO}) AS last_data
         FROM kpi.assets k LEFT JOIN series s ON s.asset_id = k.asset_id
        WHERE ($1::text[] IS NULL OR k.site_id = ANY ($1))
        GROUP BY k.asset_id, k.name, k.level, k.path, k.site_id
        ORDER BY k.path`,
      [sites],
    );
  }

  /** Which of these asset ids the register holds now. */
  async registeredNow(ids: string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await this.db.query<{ id: string }>(`SELECT DISTINCT a.id FROM assets a WHERE a.id = ANY ($1) AND a.validity @> now()`, [ids]);
    return new Set(rows.map((r) => r.id));
  }
}
