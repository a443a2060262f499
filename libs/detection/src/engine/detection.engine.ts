import type { AlertV1 } from '@weir/contracts';
import { ICS_TECHNIQUES } from '../attack-techniques';
import { DetectionError } from '../detection.error';
import { fieldOf, type DetectionEvent, type FieldValue } from '../detection-event';
import type { CorrelationRule, CountCondition, DetectionRule, Rule, SigmaLevel } from '../sigma/sigma-rule';
import { numericOf } from '../sigma/sigma-value.matcher';
import { emptyEngineState, type EngineState, type EventRef, type IncidentEntry, type WindowEntry, type WorkOrderEntry } from './engine-state';
import { RuleIndex } from './rule-index';
import type { RuleSet } from './rule-set';

/** Options of the engine; all times are event time. */
export interface DetectionEngineOptions {
  /** How late (behind the newest event) an event may arrive and still join a window, ms. Default 5 min. */
  allowedLatenessMs?: number;
  /** Default time an incident stays open for updates after its last event, ms. Default 1 h. */
  incidentWindowMs?: number;
  /** Least event time between two updates of one incident, ms. Default 60 s. */
  minUpdateIntervalMs?: number;
  /**
   * Input streams (`stream`, else `origin`) the watermark waits for: until each has delivered an event, windows close only
   * by `idleInputMs`. Others count once seen. Default none.
   */
  expectedInputs?: readonly string[];
  /** An input whose newest event is this far (event time) behind the newest of all stops holding the watermark back, ms. Default 24 h. */
  idleInputMs?: number;
  /** Most entries kept per correlation group; the oldest go first. Default 1000. */
  maxEntriesPerGroup?: number;
  /** Most related events listed in one alert. Default 50. */
  maxRelatedEvents?: number;
  /** Product name in the alerts' metadata. Default `Weir correlator`. */
  productName?: string;
}

/** A rule hit before it becomes an alert. */
interface Hit {
  rule: Rule;
  time: number;
  events: EventRef[];
  groupValues: Record<string, FieldValue>;
}

const SEVERITY: Record<SigmaLevel, number> = { informational: 1, low: 2, medium: 3, high: 4, critical: 5 };
const CLOSED_STATUSES = new Set(['completed', 'closed', 'cancelled']);

function stableKey(values: readonly FieldValue[]): string {
  return JSON.stringify(values.map((v) => (typeof v === 'string' ? v.toLowerCase() : v)));
}

/** FNV-1a 64-bit, hex: a deterministic incident id (same input, same id, across restarts and retro-hunts). */
function fnv64(text: string): string {
  let h = 0xcbf29ce484222325n;
  for (let i = 0; i < text.length; i++) {
    h ^= BigInt(text.charCodeAt(i));
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h.toString(16).padStart(16, '0');
}

function isEager(c: CountCondition): boolean {
  return c.lt === undefined && c.lte === undefined && c.eq === undefined && c.neq === undefined;
}

function holds(c: CountCondition, n: number): boolean {
  return (c.gt === undefined || n > c.gt) && (c.gte === undefined || n >= c.gte) && (c.lt === undefined || n < c.lt) && (c.lte === undefined || n <= c.lte) && (c.eq === undefined || n === c.eq) && (c.neq === undefined || n !== c.neq);
}

/**
 * The detection engine: fed an ordered stream of normalised events (live from
 * Kafka or read back from storage for a retro-hunt), it evaluates Sigma
 * detection rules, Sigma correlation rules and Weir's extensions, groups hits
 * into incidents and returns OCSF Detection Findings. It never reads the
 * clock: time is the events' own, and windows close as the event-time
 * watermark (newest event time less the allowed lateness) passes them. Its
 * whole state is plain JSON (`snapshot`/`restore`).
 */
export class DetectionEngine {
  private state: EngineState = emptyEngineState();
  private ruleSet: RuleSet;
  private index: RuleIndex;
  private readonly lateness: number;
  private readonly incidentWindow: number;
  private readonly minUpdateInterval: number;
  private readonly maxEntries: number;
  private readonly idleInput: number;
  private expectedInputs: readonly string[];
  private readonly maxRelated: number;
  private readonly product: string;
  private lastSweep = -Infinity;
  /** The work orders of `state` by asset, built when first needed after a change. */
  private workOrdersByAsset: Map<string, WorkOrderEntry[]> | undefined;
  /**
   * Window entry lists known to hold no entry of a temporal_ordered correlation's first rule (r = 0), so no
   * chain can start in them; an insertion with r = 0 removes its list. Saves a scan of the list per hit.
   */
  private noChainStart = new WeakSet<WindowEntry[]>();

  constructor(ruleSet: RuleSet, options: DetectionEngineOptions = {}) {
    this.ruleSet = ruleSet;
    this.index = new RuleIndex(ruleSet.rules);
    this.lateness = options.allowedLatenessMs ?? 300_000;
    this.incidentWindow = options.incidentWindowMs ?? 3_600_000;
    this.minUpdateInterval = options.minUpdateIntervalMs ?? 60_000;
    this.maxEntries = options.maxEntriesPerGroup ?? 1000;
    this.idleInput = options.idleInputMs ?? 86_400_000;
    this.expectedInputs = options.expectedInputs ?? [];
    this.maxRelated = options.maxRelatedEvents ?? 50;
    this.product = options.productName ?? 'Weir correlator';
  }

  /** Sets the input streams the watermark waits for (see `expectedInputs`). */
  setExpectedInputs(streams: readonly string[]): void {
    this.expectedInputs = [...streams];
  }

  /** The rules in force. */
  get rules(): RuleSet {
    return this.ruleSet;
  }

  /** Replaces the rules; state of rules that still exist (same id) is kept, the rest dropped. */
  setRules(ruleSet: RuleSet): void {
    this.index = new RuleIndex(ruleSet.rules);
    this.ruleSet = ruleSet;
    for (const id of Object.keys(this.state.windows)) if (!ruleSet.byId.has(id)) delete this.state.windows[id];
    for (const id of Object.keys(this.state.firstSeen)) if (!ruleSet.byId.has(id)) delete this.state.firstSeen[id];
  }

  /** A deep copy of the state, as JSON-safe data. */
  snapshot(): EngineState {
    return JSON.parse(this.serialise()) as EngineState;
  }

  /** The state as JSON text: what `snapshot` gives, serialised, without making the copy first (for checkpoints of a large state). */
  serialise(): string {
    return JSON.stringify(this.state);
  }

  /** Takes a state back (from `snapshot`); throws DETECTION.STATE_INVALID for anything else. */
  restore(state: unknown): void {
    const s = state as EngineState | null;
    if (!s || typeof s !== 'object' || s.version !== 1 || typeof s.windows !== 'object' || typeof s.incidents !== 'object' || typeof s.workOrders !== 'object' || typeof s.firstSeen !== 'object' || typeof s.maxTimeByOrigin !== 'object') {
      throw new DetectionError('DETECTION.STATE_INVALID', 'not an engine state of version 1');
    }
    this.state = JSON.parse(JSON.stringify(s)) as EngineState;
    this.workOrdersByAsset = undefined;
    this.setRules(this.ruleSet);
  }

  /** The event-time watermark: newest event time less the allowed lateness (ms), or undefined before any event. */
  get watermark(): number | undefined {
    if (this.state.maxTime === null) return undefined;
    // Inputs are consumed side by side and can be far apart (a backlog on one topic): windows close
    // only when the slowest input has passed them, unless that input has been idle for idleInputMs.
    let slowest = this.state.maxTime;
    for (const t of Object.values(this.state.maxTimeByOrigin)) if (t < slowest) slowest = t;
    if (this.expectedInputs.some((o) => !(o in this.state.maxTimeByOrigin))) slowest = -Infinity;
    return Math.max(slowest, this.state.maxTime - this.idleInput) - this.lateness;
  }

  /** Numbers for metrics: events processed, open groups, incidents, work orders. */
  stats(): { processed: number; groups: number; incidents: number; workOrders: number } {
    let groups = 0;
    for (const g of Object.values(this.state.windows)) groups += Object.keys(g).length;
    return { processed: this.state.processed, groups, incidents: Object.keys(this.state.incidents).length, workOrders: Object.keys(this.state.workOrders).length };
  }

  /** Records a work order (from erp.work-orders.v1) for the absence extension; `undefined` deletes it (a tombstone). */
  applyWorkOrder(id: string, wo: { assetId: string; status: string; validFrom: string; validTo?: string | null | undefined; changedAt: string } | undefined): void {
    this.workOrdersByAsset = undefined;
    if (!wo) {
      delete this.state.workOrders[id];
      return;
    }
    const from = Date.parse(wo.validFrom);
    // A closed order without an end is taken as ended when it last changed.
    const to = wo.validTo ? Date.parse(wo.validTo) : CLOSED_STATUSES.has(wo.status) ? Date.parse(wo.changedAt) : undefined;
    this.state.workOrders[id] = { assetId: wo.assetId, status: wo.status, from, ...(to !== undefined ? { to } : {}) };
  }

  /** True when a work order is open on `assetId` at `time`. */
  hasOpenWorkOrder(assetId: string, time: number): boolean {
    if (!this.workOrdersByAsset) {
      this.workOrdersByAsset = new Map();
      for (const wo of Object.values(this.state.workOrders)) {
        const list = this.workOrdersByAsset.get(wo.assetId);
        if (list) list.push(wo);
        else this.workOrdersByAsset.set(wo.assetId, [wo]);
      }
    }
    for (const wo of this.workOrdersByAsset.get(assetId) ?? []) {
      if (wo.status === 'cancelled') continue;
      if (wo.from <= time && (wo.to === undefined || time < wo.to)) return true;
    }
    return false;
  }

  /** Processes one event; returns the alerts (creates and updates) it causes. */
  process(event: DetectionEvent): AlertV1[] {
    if (!Number.isFinite(event.time)) throw new DetectionError('DETECTION.EVENT_INVALID', `event ${event.id} has no valid time`);
    this.state.processed++;
    if (this.state.maxTime === null || event.time > this.state.maxTime) this.state.maxTime = event.time;
    const byOrigin = this.state.maxTimeByOrigin;
    const stream = event.stream ?? event.origin;
    if (!(stream in byOrigin) || event.time > byOrigin[stream]!) byOrigin[stream] = event.time;
    const hits: Hit[] = [];
    const ref: EventRef = { id: event.id, time: event.time, origin: event.origin };
    const assetId = fieldOf(event, 'asset.id');
    const assetPath = fieldOf(event, 'asset.path');
    if (typeof assetId === 'string') ref.assetId = assetId;
    if (typeof assetPath === 'string') ref.assetPath = assetPath;
    // Only rules whose required values the event has can match (see RuleIndex); they come in rule order.
    for (const rule of this.index.candidates(event)) {
      if (!rule.match(event) || !this.extensionsAllow(rule, event)) continue;
      // A first-seen hit is about its values: they scope its incident when the event names no asset.
      const groupValues: Record<string, FieldValue> = {};
      for (const f of rule.weir.firstSeen?.fields ?? []) groupValues[f] = fieldOf(event, f) ?? null;
      this.propagate({ rule, time: event.time, events: [ref], groupValues }, event, hits);
    }
    const alerts = this.toAlerts(hits);
    alerts.push(...this.closeWindows());
    return alerts;
  }

  /** Moves the watermark without an event (idle input, end of a retro-hunt) and returns alerts of windows that closed. */
  advance(time: number): AlertV1[] {
    if (this.state.maxTime === null || time > this.state.maxTime) this.state.maxTime = time;
    for (const origin of Object.keys(this.state.maxTimeByOrigin)) if (this.state.maxTimeByOrigin[origin]! < time) this.state.maxTimeByOrigin[origin] = time;
    return this.closeWindows(true);
  }

  private extensionsAllow(rule: DetectionRule, event: DetectionEvent): boolean {
    const w = rule.weir;
    if (w.limit) {
      const v = numericOf(fieldOf(event, w.limit.valueField));
      const lo = numericOf(fieldOf(event, w.limit.lowField));
      const hi = numericOf(fieldOf(event, w.limit.highField));
      if (v === undefined || !((lo !== undefined && v < lo) || (hi !== undefined && v > hi))) return false;
    }
    if (w.absence) {
      const wo = fieldOf(event, 'work_order.id');
      if (typeof wo === 'string' && wo !== '') return false;
      const asset = fieldOf(event, w.absence.assetField);
      // An event without a known asset cannot be covered by a work order: it is reported.
      if (typeof asset === 'string' && this.hasOpenWorkOrder(asset, event.time)) return false;
    }
    if (w.firstSeen) {
      const values = w.firstSeen.fields.map((f) => fieldOf(event, f));
      if (values.some((v) => v === undefined || v === null)) return false;
      const key = stableKey(values as FieldValue[]);
      let fs = this.state.firstSeen[rule.id];
      if (!fs) fs = this.state.firstSeen[rule.id] = { start: event.time, seen: [] };
      if (fs.seen.includes(key)) return false;
      fs.seen.push(key);
      // Values of the learning window are learnt silently.
      if (event.time < fs.start + w.firstSeen.learningMs) return false;
    }
    return true;
  }

  /** Feeds a hit to the correlations that reference its rule and collects the hits that alert. */
  private propagate(hit: Hit, event: DetectionEvent, out: Hit[]): void {
    if (this.ruleSet.alerting.has(hit.rule.id)) out.push(hit);
    for (const link of this.ruleSet.feeds.get(hit.rule.id) ?? []) {
      const c = link.correlation;
      const values = link.groupFields.map((f) => (hit.rule.kind === 'correlation' ? hit.groupValues[f] : fieldOf(event, f)));
      // Sigma leaves missing group-by values open; here an event without one does not take part.
      if (values.some((v) => v === undefined || v === null || v === '')) continue;
      let v: string | undefined;
      if (c.type === 'value_count') {
        const raw = hit.rule.kind === 'correlation' ? hit.groupValues[c.valueField!] : fieldOf(event, c.valueField!);
        if (raw === undefined || raw === null) continue;
        v = JSON.stringify(raw);
      }
      const key = stableKey(values as FieldValue[]);
      const groups = (this.state.windows[c.id] ??= {});
      const entries = (groups[key] ??= []);
      const entry: WindowEntry = v !== undefined ? { t: hit.time, r: link.index, ev: hit.events, v } : { t: hit.time, r: link.index, ev: hit.events };
      let at = entries.length;
      while (at > 0 && entries[at - 1]!.t > entry.t) at--;
      if (at === entries.length) entries.push(entry);
      else entries.splice(at, 0, entry);
      if (entry.r === 0) this.noChainStart.delete(entries);
      if (entries.length === this.maxEntries + 1) entries.shift();
      else if (entries.length > this.maxEntries) entries.splice(0, entries.length - this.maxEntries);
      if (!isEager(c.condition)) continue;
      const fired = this.evaluateEager(c, entries);
      if (!fired) continue;
      const groupValues = Object.fromEntries(c.groupBy.map((g, i) => [g, values[i]!]));
      // The entries that made the hit are used up, so the next hit needs new evidence.
      groups[key] = entries.filter((e) => !fired.includes(e));
      if (groups[key].length === 0) delete groups[key];
      const events = dedupeRefs(fired.flatMap((e) => e.ev));
      const next: Hit = { rule: c, time: Math.max(...fired.map((e) => e.t)), events, groupValues };
      const synthetic: DetectionEvent = { id: `correlation:${c.id}:${key}:${next.time}`, time: next.time, origin: 'correlation', fields: groupValues };
      this.propagate(next, synthetic, out);
    }
  }

  /** For eager conditions (none, gt, gte): the entries of a window of `timespan` that satisfy it, or undefined. */
  private evaluateEager(c: CorrelationRule, entries: WindowEntry[]): WindowEntry[] | undefined {
    const span = c.timespanMs;
    const n = c.rules.length;
    if (c.type === 'temporal_ordered') {
      if (this.noChainStart.has(entries)) return undefined;
      let starts = false;
      for (let i = 0; i < entries.length; i++) {
        if (entries[i]!.r !== 0) continue;
        starts = true;
        const chain = [entries[i]!];
        let cur = entries[i]!.t;
        for (let k = 1; k < n; k++) {
          const next = entries.find((e) => e.r === k && e.t >= cur && e.t - entries[i]!.t <= span);
          if (!next) break;
          chain.push(next);
          cur = next.t;
        }
        if (chain.length === n) return chain;
      }
      if (!starts) this.noChainStart.add(entries);
      return undefined;
    }
    for (let i = 0; i < entries.length; i++) {
      const start = entries[i]!.t;
      const win = [];
      for (let j = i; j < entries.length && entries[j]!.t - start <= span; j++) win.push(entries[j]!);
      if (this.windowHolds(c, win, n)) return win;
    }
    return undefined;
  }

  private windowHolds(c: CorrelationRule, win: WindowEntry[], n: number): boolean {
    if (c.type === 'event_count') return holds(c.condition, win.length);
    if (c.type === 'value_count') return holds(c.condition, new Set(win.map((e) => e.v)).size);
    const distinct = new Set(win.map((e) => e.r)).size;
    return Object.keys(c.condition).length === 0 ? distinct === n : holds(c.condition, distinct);
  }

  /** Closes windows the watermark has passed: evaluates deferred conditions (lt, lte, eq, neq) and drops old entries and incidents. */
  private closeWindows(force = false): AlertV1[] {
    const wm = this.watermark;
    if (wm === undefined) return [];
    // Sweeping every group on every event would cost O(groups); once per 10 s of event time is enough.
    if (!force && wm - this.lastSweep < 10_000) return [];
    this.lastSweep = wm;
    const hits: Hit[] = [];
    for (const [ruleId, groups] of Object.entries(this.state.windows)) {
      const c = this.ruleSet.byId.get(ruleId);
      if (!c || c.kind !== 'correlation') continue;
      for (const [key, entries] of Object.entries(groups)) {
        if (!isEager(c.condition)) {
          while (entries.length > 0 && entries[0]!.t + c.timespanMs <= wm) {
            const start = entries[0]!.t;
            const cut = entries.findIndex((e) => e.t - start > c.timespanMs);
            const win = entries.splice(0, cut === -1 ? entries.length : cut);
            if (this.windowHolds(c, win, c.rules.length)) {
              const groupValues = Object.fromEntries(c.groupBy.map((g, i) => [g, (JSON.parse(key) as FieldValue[])[i]!]));
              const next: Hit = { rule: c, time: start + c.timespanMs, events: dedupeRefs(win.flatMap((e) => e.ev)), groupValues };
              this.propagate(next, { id: `correlation:${c.id}:${key}:${next.time}`, time: next.time, origin: 'correlation', fields: groupValues }, hits);
            }
          }
        } else {
          const keep = entries.filter((e) => e.t + c.timespanMs > wm);
          if (keep.length !== entries.length) groups[key] = keep;
        }
        if ((groups[key]?.length ?? 0) === 0) delete groups[key];
      }
      if (Object.keys(groups).length === 0) delete this.state.windows[ruleId];
    }
    for (const [key, inc] of Object.entries(this.state.incidents)) {
      const rule = this.ruleSet.byId.get(inc.ruleId);
      if (inc.last + (rule?.weir.incidentWindowMs ?? this.incidentWindow) < wm) delete this.state.incidents[key];
    }
    return this.toAlerts(hits);
  }

  /** Groups hits into incidents: a new incident is a Create, a hit that adds events to an open one an Update. */
  private toAlerts(hits: Hit[]): AlertV1[] {
    const alerts: AlertV1[] = [];
    for (const hit of hits) {
      const rule = hit.rule;
      const assets = [...new Set(hit.events.map((e) => e.assetId).filter((a): a is string => !!a))].sort();
      // One incident per rule (or `weir.incident`) and asset; without an asset, per group-by values,
      // and a plain detection without either is an incident of its own.
      const scope =
        assets.length > 0 ? `asset:${assets.join(',')}` : rule.kind === 'correlation' || Object.keys(hit.groupValues).length > 0 ? `group:${stableKey(Object.values(hit.groupValues))}` : `event:${hit.events[0]?.id ?? ''}`;
      const key = `${rule.weir.incident ?? rule.id}|${scope}`;
      const window = rule.weir.incidentWindowMs ?? this.incidentWindow;
      const open = this.state.incidents[key];
      if (open && hit.time - open.last <= window && hit.time >= open.first - window) {
        const known = new Set(open.related.map((e) => e.id));
        const added = hit.events.filter((e) => !known.has(e.id));
        if (added.length === 0) continue;
        open.related = [...open.related, ...added].sort((a, b) => a.time - b.time).slice(-this.maxRelated);
        open.last = Math.max(open.last, hit.time);
        if (hit.time - open.lastEmitted < this.minUpdateInterval) continue;
        open.lastEmitted = hit.time;
        alerts.push(this.alert(rule, open, 2));
        continue;
      }
      const first = Math.min(...hit.events.map((e) => e.time), hit.time);
      const inc: IncidentEntry = { uid: `weir-${fnv64(`${key}|${first}`)}`, ruleId: rule.id, first, last: hit.time, lastEmitted: hit.time, related: hit.events.slice(-this.maxRelated), groupValues: hit.groupValues };
      this.state.incidents[key] = inc;
      alerts.push(this.alert(rule, inc, 1));
    }
    return alerts;
  }

  private alert(rule: Rule, inc: IncidentEntry, activity: 1 | 2): AlertV1 {
    const assets = new Map<string, string | undefined>();
    for (const e of inc.related) if (e.assetId) assets.set(e.assetId, e.assetPath);
    const evidence: Record<string, FieldValue> = { rule_id: rule.id, rule_file: rule.file, events: inc.related.length };
    for (const [k, v] of Object.entries(inc.groupValues)) evidence[`group.${k}`] = v;
    return {
      class_uid: 2004,
      category_uid: 2,
      activity_id: activity,
      time: new Date(inc.last).toISOString(),
      severity_id: SEVERITY[rule.level],
      status_id: activity === 1 ? 1 : 2,
      finding_info: {
        uid: inc.uid,
        title: rule.title.slice(0, 500),
        ...(rule.description ? { desc: rule.description.slice(0, 8000) } : {}),
        analytic: { uid: rule.id, name: rule.name ?? rule.title, type: rule.kind === 'correlation' ? `Sigma correlation (${rule.type})` : 'Sigma rule' },
        attacks: rule.techniques.map((t) => ({ technique: { uid: t, ...(ICS_TECHNIQUES[t] ? { name: ICS_TECHNIQUES[t] } : {}) } })),
        first_seen_time: new Date(inc.first).toISOString(),
        last_seen_time: new Date(inc.last).toISOString(),
        related_events: inc.related.map((e) => ({ uid: e.id, type: e.origin, time: new Date(e.time).toISOString() })),
      },
      resources: [...assets].map(([uid, path]) => ({ uid, ...(path ? { name: path } : {}), type: 'asset' })),
      evidences: [evidence as Record<string, Exclude<FieldValue, readonly FieldValue[]>>],
      metadata: { product: { name: this.product, vendor_name: 'Weir' }, version: '1.3.0' },
    };
  }
}

function dedupeRefs(refs: EventRef[]): EventRef[] {
  const seen = new Set<string>();
  return refs.filter((r) => (seen.has(r.id) ? false : (seen.add(r.id), true)));
}
