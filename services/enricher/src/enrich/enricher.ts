import { seriesKey, type ErpAssetV1, type TelemetryContextV1, type TelemetryEnrichedV1, type TelemetryRawV1 } from '@weir/contracts';
import { compileAssetMapping, type AssetMapper, type AssetMappingRule, type AssetMatch } from '@weir/domain';
import { openWindow, type ContextStore, type StableWindow } from '../context/context-store';

/** A context with every part absent: what an unknown series gets. */
export const EMPTY_CONTEXT: TelemetryContextV1 = Object.freeze({ asset: null, productionOrder: null, workOrder: null, shift: null, costCentre: null, unit: null, limits: null });

/** What enriching one sample found, for the counters. */
export type EnrichOutcome = 'enriched' | 'unknown-series' | 'unknown-asset';

/** The result of enriching one sample. */
export interface EnrichResult {
  /** The enriched sample (made when asked for: the hot path sends spliced bytes instead). */
  readonly sample: TelemetryEnrichedV1;
  /** Its Kafka key, `seriesKey(raw)`. */
  key: string;
  outcome: EnrichOutcome;
  /** `JSON.stringify(sample.context)`, computed once per stretch of samples that share the context. */
  contextJson: string;
  /** `,"context":<contextJson>}` as UTF-8, for `enrichedBytes`; made with `contextJson`. */
  contextTail: Buffer;
}

const EMPTY_CONTEXT_JSON = JSON.stringify(EMPTY_CONTEXT);
const EMPTY_CONTEXT_TAIL = contextTail(EMPTY_CONTEXT_JSON);

function contextTail(contextJson: string): Buffer {
  return Buffer.from(`,"context":${contextJson}}`);
}

class Result implements EnrichResult {
  constructor(
    private readonly raw: TelemetryRawV1,
    readonly key: string,
    readonly context: TelemetryContextV1,
    readonly outcome: EnrichOutcome,
    readonly contextJson: string,
    readonly contextTail: Buffer,
  ) {}

  get sample(): TelemetryEnrichedV1 {
    return { ...this.raw, context: this.context };
  }
}

/**
 * The JSON of an enriched sample from its parts: the raw sample's JSON with the
 * context's appended — the same text `JSON.stringify({ ...raw, context })`
 * gives for a raw sample without a `context` field (validated raw samples
 * have none), without serialising the context for every sample.
 */
export function enrichedJson(raw: TelemetryRawV1, contextJson: string): string {
  const json = JSON.stringify(raw);
  return `${json.slice(0, -1)},"context":${contextJson}}`;
}

/**
 * The enriched sample's JSON as bytes, spliced from the raw sample's own JSON bytes: everything before its
 * closing brace, then the context tail. Only for bytes that are exactly the JSON of the raw sample (a
 * decoded message's `json`: the fast check vouched for it, so it has no `context` key and nothing was
 * stripped); `undefined` when they do not end in an object's closing brace.
 */
export function enrichedBytes(rawJson: Buffer, tail: Buffer): Buffer | undefined {
  // JSON allows whitespace after the value.
  const end = lastNonSpace(rawJson, rawJson.length - 1);
  if (end < 1 || rawJson[end] !== 0x7d) return undefined;
  // `{}` has no member to follow with a comma; a raw sample always has members, but do not assume it.
  const before = lastNonSpace(rawJson, end - 1);
  if (before < 0 || rawJson[before] === 0x7b) return undefined;
  return Buffer.concat([rawJson.subarray(0, end), tail], end + tail.length);
}

/** The index of the last byte at or before `i` that is not JSON whitespace; -1 when there is none. */
function lastNonSpace(b: Buffer, i: number): number {
  while (i >= 0 && (b[i] === 0x20 || b[i] === 0x0a || b[i] === 0x0d || b[i] === 0x09)) i--;
  return i;
}

interface SeriesInfo {
  match: AssetMatch | undefined;
  /** Lower-cased measurement name, the key into the asset's `limits`. */
  measurement: string | undefined;
  /** The last context computed for the series, reusable for any instant in [lo, hi) while the store is at `version`. */
  memo?: { version: number; lo: number; hi: number; context: TelemetryContextV1; contextJson: string; contextTail: Buffer; outcome: EnrichOutcome };
}

/**
 * Joins a raw sample with the context valid at its source time: the series is
 * mapped to an asset by the configured rules, then the asset, its production
 * order (on it or an ancestor), open work order, shift (by its site), cost
 * centre and limits are looked up as of `sourceTime` in the store.
 */
export class Enricher {
  private readonly mapper: AssetMapper;
  private readonly measurement: RegExp;
  // Series are few and repeat; rule matching (regexes) runs once per series, not per sample.
  private readonly series = new Map<string, SeriesInfo>();
  private static readonly MAX_CACHED_SERIES = 1_000_000;

  constructor(
    private readonly store: ContextStore,
    rules: readonly AssetMappingRule[],
    measurementPattern = '([^./=;]+)$',
  ) {
    this.mapper = compileAssetMapping(rules);
    this.measurement = new RegExp(measurementPattern);
  }

  /** Enriches one sample. Never throws for a valid sample: missing context parts are null. */
  enrich(raw: TelemetryRawV1): EnrichResult {
    const key = seriesKey(raw);
    const info = this.seriesInfo(key, raw);
    if (!info.match) return new Result(raw, key, EMPTY_CONTEXT, 'unknown-series', EMPTY_CONTEXT_JSON, EMPTY_CONTEXT_TAIL);
    const t = Date.parse(raw.sourceTime);
    // Context changes only at interval boundaries and when the store changes; samples of a series
    // arrive close in time, so most reuse the previous answer instead of walking the store again.
    const memo = info.memo;
    if (memo && memo.version === this.store.versionsApplied && memo.lo <= t && t < memo.hi) return new Result(raw, key, memo.context, memo.outcome, memo.contextJson, memo.contextTail);
    const { context, outcome, window } = this.lookup(info.match, info.measurement, t);
    const contextJson = JSON.stringify(context);
    const tail = contextTail(contextJson);
    info.memo = { version: this.store.versionsApplied, lo: window.lo, hi: window.hi, context, contextJson, contextTail: tail, outcome };
    return new Result(raw, key, context, outcome, contextJson, tail);
  }

  private lookup(match: AssetMatch, measurement: string | undefined, t: number): { context: TelemetryContextV1; outcome: EnrichOutcome; window: StableWindow } {
    const w = openWindow();
    const lineage = this.store.lineage(match.assetId, t, w);
    const asset = lineage[0];
    if (!asset) {
      // Mapped, but the ERP does not know the asset (yet) at that time: keep what the rule said.
      return { context: { ...EMPTY_CONTEXT, asset: { id: match.assetId, path: match.assetPath ?? match.assetId } }, outcome: 'unknown-asset', window: w };
    }
    const order = this.store.productionOrderAsOf(lineage, t, w);
    const workOrder = this.store.workOrderAsOf(asset.id, t, w);
    const site = lineage.find((a) => a.level === 'site');
    const shift = site ? this.store.shiftAsOf(site.id, t, w) : undefined;
    const costCentre = lineage.find((a) => a.costCentre !== undefined)?.costCentre ?? null;
    const limit = measurement ? findLimit(asset.limits, measurement) : undefined;
    const context: TelemetryContextV1 = {
      asset: { id: asset.id, path: asset.path, name: asset.name, level: asset.level },
      productionOrder: order ? { id: order.id, material: order.material, ...(order.idealCycleTimeS !== undefined ? { idealCycleTimeS: order.idealCycleTimeS } : {}) } : null,
      workOrder: workOrder ? { id: workOrder.id, type: workOrder.type, status: workOrder.status } : null,
      shift: shift ? { id: shift.id, name: shift.name } : null,
      costCentre,
      unit: limit?.unit ?? null,
      limits: limit ? { ...(limit.low !== undefined ? { low: limit.low } : {}), ...(limit.high !== undefined ? { high: limit.high } : {}) } : null,
    };
    return { context, outcome: 'enriched', window: w };
  }

  private seriesInfo(key: string, raw: TelemetryRawV1): SeriesInfo {
    let info = this.series.get(key);
    if (!info) {
      const m = this.measurement.exec(raw.nodeId);
      info = { match: this.mapper.resolve(raw), measurement: m?.[1]?.toLowerCase() };
      if (this.series.size >= Enricher.MAX_CACHED_SERIES) this.series.clear();
      this.series.set(key, info);
    }
    return info;
  }
}

type Limits = NonNullable<ErpAssetV1['limits']>;

function findLimit(limits: Limits | undefined, measurement: string): Limits[string] | undefined {
  if (!limits) return undefined;
  for (const [name, limit] of Object.entries(limits)) if (name.toLowerCase() === measurement) return limit;
  return undefined;
}
