import { Inject, Injectable } from '@nestjs/common';
import { Db } from '../common/db';

/** The latest sample of one series, with its asset. */
export interface LatestRow {
  series_id: number;
  name: string;
  unit: string | null;
  asset_id: string;
  path: string;
  level: string;
  asset_name: string;
  site_id: string | null;
  time: Date | null;
  value: unknown;
  status: string | null;
}

/** The current state interval of a machine. */
export interface MachineStateRow {
  machine_id: string;
  state: string;
  reason_code: number | null;
  reason: string | null;
  /** When the machine entered its state (intervals of the same state with other reasons before it included). */
  since: Date;
  /** When the current reason began (the current interval's start). */
  reason_since: Date;
}

const SUBTREE = `($2::text IS NULL OR a.asset_id = $2 OR a.path LIKE (SELECT replace(replace(replace(p.path, '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '/%' FROM kpi.assets p WHERE p.asset_id = $2))`;

/** Reads the newest sample per series (the unique (series_id, time DESC, seq) index answers each with one probe). */
@Injectable()
export class LatestRepository {
  constructor(@Inject(Db) private readonly db: Db) {}

  /** Latest value of every series of the assets in the subtree of `assetId` (null: all) within the sites (null: all). */
  latest(sites: string[] | null, assetId: string | null, limit: number): Promise<LatestRow[]> {
    return this.db.query<LatestRow>(
      `SELECT s.id AS series_id, coalesce(s.browse_path, s.node_id) AS name, s.unit, a.asset_id, a.path, a.level::text AS level, a.name AS asset_name, a.site_id,
              CASE WHEN o.time IS NULL OR n.time >= o.time THEN n.time ELSE o.time END AS time,
              CASE WHEN o.time IS NULL OR n.time >= o.time THEN n.value ELSE o.value END AS value,
              (CASE WHEN o.time IS NULL OR n.time >= o.time THEN n.status ELSE o.status END)::text AS status
         FROM series s JOIN kpi.assets a ON a.asset_id = s.asset_id
         LEFT JOIN LATERAL (SELECT t.time, to_jsonb(t.value) AS value, t.status FROM telemetry t WHERE t.series_id = s.id ORDER BY t.time DESC, t.seq DESC LIMIT 1) n ON true
         LEFT JOIN LATERAL (SELECT t.time, coalesce(to_jsonb(t.value_bool), to_jsonb(t.value_text), t.value_json) AS value, t.status
                              FROM telemetry_other t WHERE t.series_id = s.id ORDER BY t.time DESC, t.seq DESC LIMIT 1) o ON true
        WHERE ($1::text[] IS NULL OR a.site_id = ANY ($1)) AND ${SUBTREE}
        ORDER BY a.path, s.id LIMIT $3`,
      [sites, assetId, limit],
    );
  }

  /** Current state of the machines in the subtree. */
  machineStates(sites: string[] | null, assetId: string | null): Promise<MachineStateRow[]> {
    return this.db.query<MachineStateRow>(
      `SELECT ms.machine_id, i.state, i.reason_code, rc.name AS reason, coalesce(prev.end_time, first.start_time) AS since, i.start_time AS reason_since
         FROM kpi.machine_series ms JOIN kpi.assets a ON a.asset_id = ms.machine_id
         CROSS JOIN LATERAL (SELECT * FROM machine_state_intervals x WHERE x.series_id = ms.series_id ORDER BY x.start_time DESC LIMIT 1) i
         -- A down machine whose reason changed is still down since it went down: the state began where the
         -- last interval of another state ended (or with the series' first interval).
         LEFT JOIN LATERAL (SELECT x.end_time FROM machine_state_intervals x WHERE x.series_id = ms.series_id AND x.start_time < i.start_time AND x.state <> i.state
                              ORDER BY x.start_time DESC LIMIT 1) prev ON true
         LEFT JOIN LATERAL (SELECT x.start_time FROM machine_state_intervals x WHERE x.series_id = ms.series_id ORDER BY x.start_time LIMIT 1) first ON true
         LEFT JOIN kpi.reason_codes rc ON rc.code = i.reason_code
        WHERE ms.role = 'state' AND ($1::text[] IS NULL OR a.site_id = ANY ($1)) AND ${SUBTREE}`,
      [sites, assetId],
    );
  }
}
