import { Inject, Injectable } from '@nestjs/common';
import type { AlertV1, ItSecurityEventV1, OtEventV1 } from '@weir/contracts';
import { copyUpsert } from '@weir/timescale';
import type { Pool } from 'pg';
import { withTransaction } from '../common/db';
import { PG_POOL } from '../common/tokens';
import { CompletenessRepository, type ReportedGap } from '../completeness/completeness.repository';
import { ALERT_COLUMNS, alertRow, OT_EVENT_COLUMNS, otEventRow, reportedGap, SECURITY_EVENT_COLUMNS, securityEventRow } from './event-rows';

/** Rows offered and stored by one write. */
export interface EventWrite {
  offered: number;
  inserted: number;
  /** Gaps recorded in data_gaps (OT events of kind `gap`). */
  gaps: number;
}

/**
 * OT events, IT security events and alerts: immutable facts, written with
 * `copyUpsert` (staged COPY + ON CONFLICT DO NOTHING on each table's unique
 * key) so a redelivery changes nothing. Gap events also land in `data_gaps`,
 * in the same transaction.
 */
@Injectable()
export class EventsRepository {
  constructor(
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(CompletenessRepository) private readonly completeness: CompletenessRepository,
  ) {}

  /** Writes OT events and the gaps they report. */
  async writeOtEvents(events: readonly OtEventV1[]): Promise<EventWrite> {
    return withTransaction(this.pool, async (client) => {
      const inserted = await copyUpsert(client, { table: 'ot_events', columns: OT_EVENT_COLUMNS, conflictColumns: ['source_id', 'event_id', 'time'], rows: events.map(otEventRow) });
      const gaps = events.map(reportedGap).filter((g): g is ReportedGap => g !== undefined);
      const recorded = await this.completeness.insertReportedGaps(client, gaps);
      return { offered: events.length, inserted, gaps: recorded };
    });
  }

  /** Writes IT security events. */
  async writeSecurityEvents(events: readonly ItSecurityEventV1[]): Promise<EventWrite> {
    return withTransaction(this.pool, async (client) => {
      const inserted = await copyUpsert(client, { table: 'security_events', columns: SECURITY_EVENT_COLUMNS, conflictColumns: ['product_name', 'uid', 'time'], rows: events.map(securityEventRow) });
      return { offered: events.length, inserted, gaps: 0 };
    });
  }

  /** Writes alerts (one row per activity of an incident). */
  async writeAlerts(alerts: readonly AlertV1[]): Promise<EventWrite> {
    return withTransaction(this.pool, async (client) => {
      const inserted = await copyUpsert(client, { table: 'alerts', columns: ALERT_COLUMNS, conflictColumns: ['finding_uid', 'time', 'activity_id'], rows: alerts.map(alertRow) });
      return { offered: alerts.length, inserted, gaps: 0 };
    });
  }
}
