import { Inject, Injectable } from '@nestjs/common';
import type { AlertV1 } from '@weir/contracts';
import {
  DetectionEngine,
  enrichedSampleFromStored,
  itEventFromStored,
  measurementOf,
  normaliseItEvent,
  normaliseOtEvent,
  normaliseTelemetry,
  otEventFromStored,
  rulesNeedTelemetry,
  workOrderFromStored,
  type AssetResolver,
  type DetectionEvent,
} from '@weir/detection';
import { compileAssetMapping, type AssetMappingRule } from '@weir/domain';
import { SETTINGS } from '../common/tokens';
import type { AnalyticsSettings } from '../config';
import { HuntRepository, type PageAfter } from './hunt.repository';
import type { HuntRules } from './hunt.rules';

/** Which stored inputs a hunt reads. */
export type HuntInput = 'ot' | 'it' | 'telemetry';

/** What a hunt did and found. */
export interface HuntOutcome {
  findings: AlertV1[];
  /** Stored events read, by input. */
  eventsRead: Record<HuntInput, number>;
  /** Work order versions fed to the absence rules. */
  workOrders: number;
  inputs: HuntInput[];
  /** False when the hunt stopped early (too many events or findings); `processedTo` says how far it got. */
  complete: boolean;
  processedTo: string;
  stoppedBecause: 'max-events' | 'max-findings' | 'cancelled' | null;
}

/** How far a running hunt got. */
export interface HuntProgress {
  /** Event time of the last event processed. */
  processedTo: string;
  eventsProcessed: number;
  findings: number;
}

/** Options of one run: cancellation and progress reports (every `PROGRESS_EVERY` events). */
export interface HuntRunOptions {
  signal?: AbortSignal;
  onProgress?: (p: HuntProgress) => void;
}

const PROGRESS_EVERY = 1000;

/** Most work order versions a hunt loads for the absence rules. */
const MAX_WORK_ORDERS = 200_000;

/** A time-ordered stream of detection events read page by page from one table. */
class PagedInput {
  private page: DetectionEvent[] = [];
  private at = 0;
  private after: PageAfter | null = null;
  private exhausted = false;
  read = 0;

  constructor(private readonly fetch: (after: PageAfter | null) => Promise<{ events: (DetectionEvent | undefined)[]; last: PageAfter | undefined; rows: number }>, private readonly pageSize: number) {}

  /** The next event without taking it, or undefined at the end. */
  async peek(): Promise<DetectionEvent | undefined> {
    while (this.at >= this.page.length) {
      if (this.exhausted) return undefined;
      const { events, last, rows } = await this.fetch(this.after);
      this.read += rows;
      this.page = events.filter((e): e is DetectionEvent => e !== undefined);
      this.at = 0;
      if (last) this.after = last;
      if (rows < this.pageSize) this.exhausted = true;
    }
    return this.page[this.at];
  }

  take(): void {
    this.at++;
  }
}

/**
 * Runs a retro-hunt: the stored events of [from, to) are turned back into the messages the live correlator
 * consumed (`@weir/detection` stored-event mapping), normalised by the same normalisers, merged in time order
 * and fed to a fresh engine with the correlator's settings; windows still open at `to` are closed at the end.
 * Memory: one page per input, plus the engine's state (windows, incidents, work orders) and the findings.
 */
@Injectable()
export class HuntService {
  private readonly resolveAsset: AssetResolver | undefined;
  private readonly measurement: RegExp;

  constructor(
    @Inject(SETTINGS) private readonly settings: AnalyticsSettings,
    @Inject(HuntRepository) private readonly repo: HuntRepository,
  ) {
    const h = settings.hunt;
    const mapper = h.assetMapping.length > 0 ? compileAssetMapping(h.assetMapping as AssetMappingRule[]) : undefined;
    // The correlator's resolver: OT events are mapped by their node, as live.
    this.resolveAsset = mapper
      ? (ref) => {
          if (!ref.nodeId) return undefined;
          const m = mapper.resolve({ sourceId: ref.sourceId, nodeId: ref.nodeId, ...(ref.browsePath ? { browsePath: ref.browsePath } : {}) });
          return m ? { id: m.assetId, ...(m.assetPath ? { path: m.assetPath } : {}) } : undefined;
        }
      : undefined;
    this.measurement = new RegExp(h.measurementPattern);
  }

  /** Runs the rules over [from, to) and returns every finding (creates and updates), at most `maxFindings`. */
  async run(rules: HuntRules, from: Date, to: Date, maxFindings: number, options: HuntRunOptions = {}): Promise<HuntOutcome> {
    const h = this.settings.hunt;
    const engine = new DetectionEngine(rules.ruleSet, { allowedLatenessMs: h.allowedLatenessMs, incidentWindowMs: h.incidentWindowMs, minUpdateIntervalMs: h.minUpdateIntervalMs, idleInputMs: h.idleInputMs });
    const workOrders = await this.repo.workOrders(from, to, MAX_WORK_ORDERS);
    for (const row of workOrders) {
      const { key, workOrder } = workOrderFromStored(row);
      engine.applyWorkOrder(key, workOrder);
    }
    const size = h.pageSize;
    const inputs: Partial<Record<HuntInput, PagedInput>> = {
      ot: new PagedInput(async (after) => {
        const rows = await this.repo.otEvents(from, to, after, size);
        const last = rows.at(-1);
        return { rows: rows.length, last: last && { time: last.time, k1: last.k1, k2: last.k2 }, events: rows.map((r) => normaliseOtEvent(otEventFromStored(r.event), this.resolveAsset)) };
      }, size),
      it: new PagedInput(async (after) => {
        const rows = await this.repo.securityEvents(from, to, after, size);
        const last = rows.at(-1);
        return { rows: rows.length, last: last && { time: last.time, k1: last.k1, k2: last.k2 }, events: rows.map((r) => normaliseItEvent(itEventFromStored(r.event))) };
      }, size),
    };
    const ruleList = rules.ruleSet.rules.map((r) => ({ kind: r.kind, weir: r.weir, ...(r.kind === 'detection' ? { logsource: r.logsource } : {}) }));
    if (rulesNeedTelemetry(ruleList, rules.sigmaText ? [rules.sigmaText] : [])) {
      const series = (await this.repo.limitedSeries()).filter((s) => {
        const m = measurementOf(s.node_id, this.measurement);
        return m !== undefined && s.limits.some((l) => Object.keys(l ?? {}).some((k) => k.toLowerCase() === m));
      });
      const ids = series.map((s) => s.id);
      if (ids.length > 0) {
        inputs.telemetry = new PagedInput(async (after) => {
          const rows = await this.repo.samples(ids, from, to, after, size);
          const last = rows.at(-1);
          return {
            rows: rows.length,
            last: last && { time: last.time, k1: last.series_id, k2: last.seq },
            events: rows.map((r) =>
              normaliseTelemetry(
                enrichedSampleFromStored({
                  time: r.time,
                  sourceId: r.source_id,
                  nodeId: r.node_id,
                  browsePath: r.browse_path,
                  seq: r.seq,
                  origin: r.origin,
                  value: r.value,
                  status: r.status,
                  asset: { id: r.asset_id, path: r.asset_path, name: r.asset_name, level: r.asset_level, limits: r.limits },
                  workOrder: r.work_order_id ? { id: r.work_order_id, type: r.work_order_type, status: r.work_order_status } : null,
                  measurement: measurementOf(r.node_id, this.measurement),
                }),
              ),
            ),
          };
        }, size);
      }
    }
    const findings: AlertV1[] = [];
    let processed = 0;
    let processedTo = from.getTime();
    let stoppedBecause: HuntOutcome['stoppedBecause'] = null;
    const streams = Object.values(inputs);
    for (;;) {
      // Merge by event time: the input whose next event is earliest goes first.
      let next: PagedInput | undefined;
      let nextEvent: DetectionEvent | undefined;
      for (const s of streams) {
        const e = await s.peek();
        if (e && (!nextEvent || e.time < nextEvent.time)) {
          next = s;
          nextEvent = e;
        }
      }
      if (!next || !nextEvent) break;
      if (options.signal?.aborted) {
        stoppedBecause = 'cancelled';
        break;
      }
      if (processed >= h.maxEvents) {
        stoppedBecause = 'max-events';
        break;
      }
      next.take();
      processed++;
      processedTo = nextEvent.time;
      findings.push(...engine.process(nextEvent));
      if (processed % PROGRESS_EVERY === 0) {
        options.onProgress?.({ processedTo: new Date(processedTo).toISOString(), eventsProcessed: processed, findings: findings.length });
        // A long hunt must not hold the event loop: other requests are answered between slices.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      if (findings.length >= maxFindings) {
        stoppedBecause = 'max-findings';
        break;
      }
    }
    // Close the windows the range covers: the watermark moves to `to`.
    if (stoppedBecause === null) {
      findings.push(...engine.advance(to.getTime() + h.allowedLatenessMs));
      processedTo = to.getTime();
    }
    options.onProgress?.({ processedTo: new Date(processedTo).toISOString(), eventsProcessed: processed, findings: findings.length });
    return {
      findings: findings.slice(0, maxFindings),
      eventsRead: { ot: inputs.ot?.read ?? 0, it: inputs.it?.read ?? 0, telemetry: inputs.telemetry?.read ?? 0 },
      workOrders: workOrders.length,
      inputs: (Object.keys(inputs) as HuntInput[]).sort(),
      complete: stoppedBecause === null,
      processedTo: new Date(processedTo).toISOString(),
      stoppedBecause,
    };
  }
}
