import type { AlertV1 } from '@weir/contracts';
import { z } from 'zod';
import { ApiError, type ParamIssue } from '../common/api-error';
import { checkRange, instant } from '../common/query-fields';
import type { HuntSection } from './hunt.config';
import type { HuntRules } from './hunt.rules';
import type { HuntOutcome } from './hunt.service';

/** The body of a hunt (sync or job): range, built-in rules and/or Sigma text, most findings. */
export function huntBodySchema(h: HuntSection) {
  return z
    .strictObject({
      from: instant,
      to: instant,
      rules: z.array(z.string().min(1).max(200)).min(1).max(500).optional(),
      sigma: z.string().min(1).max(100_000).optional(),
      limit: z.number().int().min(1).max(h.maxFindings).default(Math.min(1000, h.maxFindings)),
    })
    .superRefine((v, ctx) => {
      checkRange(v, ctx, h.maxRangeMs);
      if (v.rules === undefined && v.sigma === undefined) ctx.addIssue({ code: 'custom', path: ['rules'], message: 'give built-in rule ids (or ["*"]) in rules, Sigma rules in sigma, or both' });
    });
}
/** A validated hunt body. */
export type HuntBody = z.infer<ReturnType<typeof huntBodySchema>>;

/** The OpenAPI schema of a hunt body. */
export const HUNT_BODY_OPENAPI = {
  type: 'object',
  required: ['from', 'to'],
  properties: {
    from: { type: 'string', format: 'date-time', description: 'Start of the replayed range (ISO 8601 with a zone)' },
    to: { type: 'string', format: 'date-time', description: 'End of the range (exclusive); at most hunt.maxRangeMs (31 days) after from' },
    rules: { type: 'array', items: { type: 'string' }, description: 'Built-in rule ids or names; ["*"] for all' },
    sigma: { type: 'string', description: 'Sigma rules as YAML (detections and correlations, several documents); may reference built-in rules by id or name, and replaces a built-in rule of the same id' },
    limit: { type: 'integer', description: 'Most findings (default 1000, at most hunt.maxFindings)' },
  },
};

/** Validates a JSON body; every problem at once as a 400 naming the field. */
export function parseBody<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new ApiError('REQUEST.INVALID', 'the body must be a JSON object (Content-Type: application/json)', { issues: [{ param: '(body)', problem: 'must be a JSON object' }] });
  }
  const result = schema.safeParse(input);
  if (result.success) return result.data as z.infer<S>;
  const issues: ParamIssue[] = result.error.issues.map((i) => ({
    param: i.code === 'unrecognized_keys' ? i.keys.join(', ') : i.path.map(String).join('.') || '(body)',
    problem: i.code === 'unrecognized_keys' ? 'is not a field of this request' : i.code === 'invalid_type' && i.input === undefined ? 'is required' : i.message,
  }));
  throw new ApiError('REQUEST.INVALID', `invalid body field${issues.length > 1 ? 's' : ''}: ${issues.map((i) => `${i.param}: ${i.problem}`).join('; ')}`, { issues });
}

/** A finding as the API returns it: the alerts listing's fields plus what the OCSF finding says about its evidence. */
export function findingView(a: AlertV1) {
  const f = a.finding_info;
  return {
    t: a.time,
    findingUid: f.uid,
    activityId: a.activity_id,
    severityId: a.severity_id,
    statusId: a.status_id ?? null,
    title: f.title,
    analytic: { uid: f.analytic?.uid ?? null, name: f.analytic?.name ?? null },
    attackTechniques: f.attacks.map((x) => x.technique.uid),
    resourceUids: a.resources.map((r) => r.uid),
    resources: a.resources.map((r) => ({ uid: r.uid, name: r.name ?? null })),
    firstSeen: f.first_seen_time ?? null,
    lastSeen: f.last_seen_time ?? null,
    relatedEvents: f.related_events.map((e) => ({ uid: e.uid, type: e.type ?? null, time: e.time ?? null })),
    evidence: a.evidences?.[0] ?? null,
  };
}

/**
 * The result of a hunt for a caller: what ran and how far, and the findings about assets of the caller's sites
 * (`visible`; undefined for all sites), as the alerts listing scopes alerts: findings about no asset only for all sites.
 */
export function huntResult(q: Pick<HuntBody, 'from' | 'to'>, rules: HuntRules, out: HuntOutcome, visible: Set<string> | undefined) {
  const findings = out.findings.filter((a) => visible === undefined || a.resources.some((r) => visible.has(r.uid)));
  return {
    hunt: {
      from: q.from.toISOString(),
      to: q.to.toISOString(),
      complete: out.complete,
      processedTo: out.processedTo,
      stoppedBecause: out.stoppedBecause,
      inputs: out.inputs,
      eventsRead: out.eventsRead,
      workOrders: out.workOrders,
      rules: rules.ruleSet.rules.map((r) => ({ id: r.id, title: r.title, kind: r.kind, origin: rules.origin.get(r.id) ?? 'builtin', alerting: rules.ruleSet.alerting.has(r.id) })),
    },
    findings: findings.map(findingView),
  };
}
/** A hunt result as returned. */
export type HuntResult = ReturnType<typeof huntResult>;
