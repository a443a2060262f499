import { Inject, Injectable } from '@nestjs/common';
import { Db } from '../common/db';

/** One activity (create, update, close) of one alert (an OCSF Detection Finding). */
export interface AlertRow {
  time: string;
  finding_uid: string;
  activity_id: number;
  severity_id: number;
  status_id: number | null;
  title: string;
  analytic_uid: string | null;
  analytic_name: string | null;
  attack_techniques: string[];
  resource_uids: string[];
}

/** Filters of an alert listing; null means "any". */
export interface AlertFilter {
  from: Date;
  to: Date;
  minSeverity: number | null;
  technique: string | null;
  /** Only alerts about assets of these sites (null: every alert, including those about no asset). */
  sites: string[] | null;
  assetId: string | null;
  before: { time: string; findingUid: string; activityId: number } | null;
  limit: number;
}

/** Reads the alerts hypertable, newest first. */
@Injectable()
export class AlertsRepository {
  constructor(@Inject(Db) private readonly db: Db) {}

  /** Alert activities matching the filter, keyset-paged backwards in time. */
  list(f: AlertFilter): Promise<AlertRow[]> {
    return this.db.query<AlertRow>(
      `SELECT to_char(a.time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS time, a.finding_uid, a.activity_id, a.severity_id, a.status_id,
              a.title, a.analytic_uid, a.analytic_name, a.attack_techniques, a.resource_uids
         FROM alerts a
        WHERE a.time >= $1 AND a.time < $2
          AND ($3::int IS NULL OR a.severity_id >= $3)
          AND ($4::text IS NULL OR $4 = ANY (a.attack_techniques))
          AND ($5::text[] IS NULL OR a.resource_uids && ARRAY(SELECT k.asset_id FROM kpi.assets k WHERE k.site_id = ANY ($5)))
          AND ($6::text IS NULL OR $6 = ANY (a.resource_uids))
          AND ($7::timestamptz IS NULL OR (a.time, a.finding_uid, a.activity_id) < ($7::timestamptz, $8::text, $9::smallint))
        ORDER BY a.time DESC, a.finding_uid DESC, a.activity_id DESC
        LIMIT $10`,
      [f.from, f.to, f.minSeverity, f.technique, f.sites, f.assetId, f.before?.time ?? null, f.before?.findingUid ?? null, f.before?.activityId ?? null, f.limit],
    );
  }
}
