import { Inject, Injectable } from '@nestjs/common';
import { Db } from '../common/db';

/** Groupings kpi.oee accepts (the SQL function checks the same list). */
export const OEE_GROUPS = ['machine', 'line', 'site', 'shift', 'order', 'day'] as const;
/** One grouping. */
export type OeeGroup = (typeof OEE_GROUPS)[number];

/** One row of kpi.oee. */
export interface OeeRow {
  site_id: string;
  key: string | null;
  label: string | null;
  planned_s: number;
  excluded_s: number;
  planned_busy_s: number;
  run_s: number;
  idle_s: number;
  down_s: number;
  failures: string;
  produced: number;
  good: number;
  ideal_s: number | null;
  excluded_produced: number;
  counter_resets: string;
  availability: number | null;
  performance: number | null;
  quality: number | null;
  oee: number | null;
  mtbf_s: number | null;
  mttr_s: number | null;
}

/** Downtime summed per reason (or category, or machine). */
export interface DowntimeRow {
  key: string;
  state: string | null;
  reason_code: number | null;
  category: string | null;
  reason: string | null;
  seconds: number;
  occurrences: string;
}

/** One row of kpi.energy. */
export interface EnergyRow {
  site_id: string;
  order_id: string | null;
  material: string | null;
  cost_centre: string | null;
  energy_kwh: number;
  good: number;
  kwh_per_good_unit: number | null;
}

/** The common filter of the KPI functions. */
export interface KpiFilter {
  from: Date;
  to: Date;
  timeZone: string;
  sites: string[] | null;
  assetId: string | null;
}

/** Downtime groupings: each a fixed SQL expression over kpi.downtime's columns. */
export const DOWNTIME_GROUPS = ['reason', 'category', 'machine'] as const;
/** One downtime grouping. */
export type DowntimeGroup = (typeof DOWNTIME_GROUPS)[number];

const DOWNTIME_SQL: Record<DowntimeGroup, string> = {
  reason: `SELECT coalesce(d.reason_code::text, 'none') AS key, min(d.state) AS state, d.reason_code, min(d.category) AS category, min(d.reason) AS reason,
                  sum(d.seconds) AS seconds, sum(d.occurrences)::bigint AS occurrences
             FROM kpi.downtime($1, $2, $3, $4, $5) d WHERE d.state = ANY ($6::text[]) GROUP BY d.reason_code ORDER BY seconds DESC, key`,
  category: `SELECT d.category AS key, NULL AS state, NULL::int AS reason_code, d.category, NULL AS reason, sum(d.seconds) AS seconds, sum(d.occurrences)::bigint AS occurrences
               FROM kpi.downtime($1, $2, $3, $4, $5) d WHERE d.state = ANY ($6::text[]) GROUP BY d.category ORDER BY seconds DESC, key`,
  machine: `SELECT d.machine_id AS key, NULL AS state, NULL::int AS reason_code, NULL AS category, NULL AS reason, sum(d.seconds) AS seconds, sum(d.occurrences)::bigint AS occurrences
              FROM kpi.downtime($1, $2, $3, $4, $5) d WHERE d.state = ANY ($6::text[]) GROUP BY d.machine_id ORDER BY seconds DESC, key`,
};

/** Reads the KPIs through the kpi.* functions, so the API and SQL users get the same numbers. */
@Injectable()
export class KpiRepository {
  constructor(@Inject(Db) private readonly db: Db) {}

  /** kpi.oee grouped by `by`. */
  oee(f: KpiFilter, by: OeeGroup): Promise<OeeRow[]> {
    return this.db.query<OeeRow>(`SELECT * FROM kpi.oee($1, $2, $3, $4, $5, $6)`, [f.from, f.to, by, f.timeZone, f.sites, f.assetId]);
  }

  /** kpi.downtime summed by reason, category or machine, largest first. */
  downtime(f: KpiFilter, by: DowntimeGroup, states: string[]): Promise<DowntimeRow[]> {
    return this.db.query<DowntimeRow>(DOWNTIME_SQL[by], [f.from, f.to, f.timeZone, f.sites, f.assetId, states]);
  }

  /** kpi.energy: energy and energy per good unit by order and cost centre. */
  energy(f: KpiFilter): Promise<EnergyRow[]> {
    return this.db.query<EnergyRow>(`SELECT * FROM kpi.energy($1, $2, $3, $4, $5)`, [f.from, f.to, f.timeZone, f.sites, f.assetId]);
  }
}
