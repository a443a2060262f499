import { seriesKey, type JsonValue, type TelemetryEnrichedV1 } from '@weir/contracts';

/** Columns of `telemetry` the sink writes, in row order. */
export const TELEMETRY_COLUMNS = ['time', 'series_id', 'origin', 'value', 'status', 'seq', 'server_time'] as const;
/** Columns of `telemetry_other` the sink writes, in row order. */
export const TELEMETRY_OTHER_COLUMNS = ['time', 'series_id', 'origin', 'status', 'seq', 'server_time', 'value_bool', 'value_text', 'value_json'] as const;

/** OPC UA built-in types whose values are numbers; a Bad sample without a value of such a series goes to `telemetry`. */
const NUMERIC_TYPES = new Set(['SByte', 'Byte', 'Int16', 'UInt16', 'Int32', 'UInt32', 'Int64', 'UInt64', 'Float', 'Double']);

/** Which table a sample belongs in: numbers in `telemetry`, everything else in `telemetry_other`. */
export function telemetryTable(value: JsonValue, dataType: string | undefined): 'telemetry' | 'telemetry_other' {
  if (typeof value === 'number') return 'telemetry';
  // No value (Bad status): keep it with the series' numbers when the type says numeric or is unknown.
  if (value === null) return dataType === undefined || NUMERIC_TYPES.has(dataType) ? 'telemetry' : 'telemetry_other';
  return 'telemetry_other';
}

/** The span of sequence numbers and source times one batch wrote for one source. */
export interface SequenceSpan {
  sourceId: string;
  minSeq: number;
  maxSeq: number;
  /** Milliseconds since the epoch, rounded down. */
  minTimeMs: number;
  /** Milliseconds since the epoch, rounded up (sub-millisecond digits are kept in the rows). */
  maxTimeMs: number;
}

/** The rows and side information of one telemetry batch, ready to write. */
export interface TelemetryBatch {
  numeric: unknown[][];
  other: unknown[][];
  /** (series id, first minute, last minute) triples, minutes since the epoch, of the numeric rows: for rollup invalidation. */
  rollupRanges: number[];
  /** Per source, the span of sequence numbers written: for sequence gap detection. */
  sequences: SequenceSpan[];
}

/** Each sample's series key and source time in ms, computed once per batch and shared by every step. */
export interface SampleKeys {
  keys: string[];
  timesMs: number[];
}

const MINUTE_MS = 60_000;

/** The series key and source time (ms, sub-millisecond digits dropped) of every sample. */
export function sampleKeys(samples: readonly TelemetryEnrichedV1[]): SampleKeys {
  const keys = new Array<string>(samples.length);
  const timesMs = new Array<number>(samples.length);
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    keys[i] = seriesKey(s);
    timesMs[i] = Date.parse(s.sourceTime);
  }
  return { keys, timesMs };
}

/**
 * Turns decoded samples into rows for `telemetry` and `telemetry_other`.
 * Source times are passed through as the ISO text they arrived in, so
 * microseconds survive. `seriesIds` maps each sample's key to its series id.
 * A sample repeated within the batch is not filtered here: the COPY then meets
 * the unique index and the batch takes the upsert path, which skips it.
 */
export function buildTelemetryBatch(samples: readonly TelemetryEnrichedV1[], sampleKeyList: SampleKeys, seriesIds: ReadonlyMap<string, number>): TelemetryBatch {
  const numeric: unknown[][] = [];
  const other: unknown[][] = [];
  const minutes = new Map<number, [number, number]>();
  const sequences = new Map<string, SequenceSpan>();
  const { keys, timesMs } = sampleKeyList;

  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    const seriesId = seriesIds.get(keys[i]!);
    if (seriesId === undefined) throw new Error(`SINK.SERIES_UNRESOLVED: no series id for ${keys[i]!}`);
    const ms = timesMs[i]!;
    const v = s.value;
    if (typeof v === 'number' || (v === null && telemetryTable(v, s.dataType) === 'telemetry')) {
      numeric.push([s.sourceTime, seriesId, s.origin, v, s.status, s.seq, s.serverTime ?? null]);
      const minute = Math.floor(ms / MINUTE_MS);
      const range = minutes.get(seriesId);
      if (!range) minutes.set(seriesId, [minute, minute]);
      else if (minute < range[0]) range[0] = minute;
      else if (minute > range[1]) range[1] = minute;
    } else {
      other.push([
        s.sourceTime,
        seriesId,
        s.origin,
        s.status,
        s.seq,
        s.serverTime ?? null,
        typeof v === 'boolean' ? v : null,
        typeof v === 'string' ? v : null,
        v !== null && typeof v === 'object' ? v : null,
      ]);
    }

    const span = sequences.get(s.sourceId);
    if (!span) sequences.set(s.sourceId, { sourceId: s.sourceId, minSeq: s.seq, maxSeq: s.seq, minTimeMs: ms, maxTimeMs: ms + 1 });
    else {
      if (s.seq < span.minSeq) span.minSeq = s.seq;
      else if (s.seq > span.maxSeq) span.maxSeq = s.seq;
      if (ms < span.minTimeMs) span.minTimeMs = ms;
      else if (ms + 1 > span.maxTimeMs) span.maxTimeMs = ms + 1;
    }
  }

  const rollupRanges: number[] = [];
  for (const [seriesId, [from, to]] of minutes) rollupRanges.push(seriesId, from, to);
  return { numeric, other, rollupRanges, sequences: [...sequences.values()] };
}
