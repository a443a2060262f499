import { createHmac, randomBytes } from 'node:crypto';
import { DataValue, HistoryData, HistoryReadResult, ReadRawModifiedDetails, StatusCodes, Variant, type HistoryReadDetails, type ISessionContext, type StatusCode, type UAVariable } from 'node-opcua';
import type { PlantModel, Sample, TagInfo } from '../model/plant-model';
import { DATA_TYPES } from './address-space';

/** Limits of one HistoryRead answer per node. */
export interface HistoryLimits {
  /** Values per node per answer, whatever the client asked (it gets a continuation point for the rest). */
  maxValuesPerNode: number;
  /** Grid evaluations per node per answer: bounds the time spent on sparse tags over long ranges. */
  maxStepsPerNode: number;
}

interface ContinuationData {
  continuationPoint?: Buffer | null;
  releaseContinuationPoints?: boolean;
}

type HistoryCallback = (err: Error | null, result?: HistoryReadResult) => void;

/** node-opcua's per-variable extension point for HistoryRead (not in its public typings). */
interface HistoricalVariable {
  _historyRead: (context: ISessionContext, details: HistoryReadDetails, indexRange: unknown, dataEncoding: unknown, continuationData: ContinuationData, callback: HistoryCallback) => void;
}

// Continuation points are self-describing and signed rather than stored: the
// server keeps nothing per reader, so any number of long reads cost no memory.
// A point names the tag and where to resume; the client re-sends the same
// details with it, as OPC UA requires.
const CP_MAGIC = 'WH1';

/** Makes and checks the continuation points of one server run. */
export class ContinuationPoints {
  private readonly key = randomBytes(32);

  encode(tag: TagInfo, resumeAt: number): Buffer {
    const body = Buffer.alloc(3 + 8 + 4);
    body.write(CP_MAGIC, 0, 'latin1');
    body.writeDoubleBE(resumeAt, 3);
    body.writeUInt32BE(tag.key >>> 0, 11);
    return Buffer.concat([body, this.mac(body)]);
  }

  /** The resume time, or undefined when the point was not made by this run for this tag. */
  decode(tag: TagInfo, cp: Buffer): number | undefined {
    if (cp.length !== 15 + 12) return undefined;
    const body = cp.subarray(0, 15);
    if (body.toString('latin1', 0, 3) !== CP_MAGIC || !this.mac(body).equals(cp.subarray(15)) || body.readUInt32BE(11) !== tag.key >>> 0) return undefined;
    return body.readDoubleBE(3);
  }

  private mac(body: Buffer): Buffer {
    return createHmac('sha256', this.key).update(body).digest().subarray(0, 12);
  }
}

const OPCUA_MIN_DATE_MS = Date.UTC(1601, 0, 2);
const specified = (d: Date | null | undefined): number | undefined => (d && d.getTime() > OPCUA_MIN_DATE_MS ? d.getTime() : undefined);

/**
 * Answers ReadRawModifiedDetails (raw, not modified) for one tag by computing
 * its samples from the model: any past range, forward or reverse, paged with
 * continuation points. Values later than `now()` do not exist yet. Bounds
 * (returnBounds) are not returned.
 */
export function installHistory(variable: UAVariable, tag: TagInfo, deps: { model: PlantModel; limits: HistoryLimits; points: ContinuationPoints; now: () => number; onValues: (n: number) => void; onError: (err: unknown, tag: TagInfo) => void }): void {
  const { model, limits, points } = deps;
  const result = (statusCode: StatusCode, samples: Sample[] = [], continuationPoint?: Buffer): HistoryReadResult =>
    new HistoryReadResult({
      statusCode,
      continuationPoint,
      historyData: new HistoryData({
        dataValues: samples.map((s) => {
          const ts = new Date(s.time);
          return new DataValue({ value: new Variant({ dataType: DATA_TYPES[tag.dataType], value: s.value }), statusCode: StatusCodes.Good, sourceTimestamp: ts, serverTimestamp: ts });
        }),
      }),
    });

  const read: HistoricalVariable['_historyRead'] = (_context, details, _indexRange, _dataEncoding, continuationData, callback) => {
    try {
      if (!(details instanceof ReadRawModifiedDetails)) return callback(null, result(StatusCodes.BadHistoryOperationUnsupported));
      const cp = continuationData.continuationPoint && continuationData.continuationPoint.length > 0 ? continuationData.continuationPoint : undefined;
      if (cp && continuationData.releaseContinuationPoints) return callback(null, result(StatusCodes.Good));
      if (details.isReadModified) return callback(null, result(StatusCodes.BadHistoryOperationUnsupported));
      const start = specified(details.startTime);
      const end = specified(details.endTime);
      const perNode = details.numValuesPerNode;
      if (start === undefined && end === undefined) return callback(null, result(StatusCodes.BadHistoryOperationInvalid));
      if ((start === undefined || end === undefined) && perNode === 0) return callback(null, result(StatusCodes.BadHistoryOperationInvalid));
      // Reverse order when start > end, or when only an end is given (Part 11, 6.4.3.2).
      const reverse = start === undefined || (end !== undefined && start > end);
      const now = deps.now();
      let lo = reverse ? (start === undefined ? model.epochMs : end!) : start;
      let hi = Math.min(reverse ? (start ?? end!) : (end ?? now), now);
      if (cp) {
        const resumeAt = points.decode(tag, cp);
        if (resumeAt === undefined) return callback(null, result(StatusCodes.BadContinuationPointInvalid));
        if (reverse) hi = Math.min(hi, resumeAt);
        else lo = Math.max(lo, resumeAt);
      }
      const maxValues = perNode > 0 ? Math.min(perNode, limits.maxValuesPerNode) : limits.maxValuesPerNode;
      const scan = model.scanSamples(tag, lo, hi, { reverse, maxValues, maxSteps: limits.maxStepsPerNode });
      deps.onValues(scan.samples.length);
      const next = scan.resumeAt !== undefined ? points.encode(tag, scan.resumeAt) : undefined;
      callback(null, result(scan.samples.length === 0 && !next ? StatusCodes.GoodNoData : StatusCodes.Good, scan.samples, next));
    } catch (err) {
      deps.onError(err, tag);
      callback(null, result(StatusCodes.BadInternalError));
    }
  };
  (variable as unknown as HistoricalVariable)._historyRead = read;
}
