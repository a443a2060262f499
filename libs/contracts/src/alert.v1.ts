import { z } from 'zod';
import { isoTime, jsonValue } from './common';
import { defineTopic } from './topic';

/** A MITRE ATT&CK (for ICS) technique, e.g. `T0836` Modify Parameter. */
export const attackRef = z.object({
  technique: z.object({ uid: z.string().regex(/^T\d{4}(\.\d{3})?$/), name: z.string().optional() }),
  tactic: z.object({ uid: z.string().optional(), name: z.string().optional() }).optional(),
});

/**
 * A security alert as an OCSF Detection Finding (class 2004): what was found,
 * on which asset, why (the related events), and the ATT&CK techniques.
 */
export const alertV1Schema = z.object({
  class_uid: z.literal(2004),
  category_uid: z.literal(2),
  /** 1 Create, 2 Update (the incident grew), 3 Close. */
  activity_id: z.number().int().min(0).max(99),
  time: isoTime,
  /** OCSF severity: 1 Informational .. 5 Critical. */
  severity_id: z.number().int().min(0).max(6),
  /** 1 New, 2 In Progress, 3 Suppressed, 4 Resolved. */
  status_id: z.number().int().min(0).max(99).optional(),
  finding_info: z.object({
    /** Stable id of the incident; updates of one incident share it. */
    uid: z.string().min(1),
    title: z.string().max(500),
    desc: z.string().max(8000).optional(),
    /** The rule that raised it. */
    analytic: z.object({ uid: z.string(), name: z.string(), type: z.string().optional() }).optional(),
    attacks: z.array(attackRef).default([]),
    first_seen_time: isoTime.optional(),
    last_seen_time: isoTime.optional(),
    /** The events that made the finding, by topic and id. */
    related_events: z.array(z.object({ uid: z.string(), type: z.string().optional(), time: isoTime.optional() })).default([]),
  }),
  /** The OT asset concerned, by our asset id and ISA-95 path. */
  resources: z.array(z.object({ uid: z.string(), name: z.string().optional(), type: z.string().optional() })).default([]),
  evidences: z.array(z.record(z.string(), jsonValue)).optional(),
  metadata: z.object({ product: z.object({ name: z.string(), vendor_name: z.string().optional() }), version: z.string().default('1.3.0') }),
});
/** One alert. */
export type AlertV1 = z.infer<typeof alertV1Schema>;

/** Alerts from the correlator, one incident per `finding_info.uid`. */
export const securityAlertsV1 = defineTopic({
  name: 'sec.alerts.v1',
  description: 'OCSF Detection Findings raised by the correlator, tagged with ATT&CK for ICS techniques',
  schema: alertV1Schema,
  key: (a) => a.finding_info.uid,
  defaultPartitions: 3,
});
