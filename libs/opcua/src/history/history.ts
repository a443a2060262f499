import { HistoryReadRequest, ReadRawModifiedDetails, TimestampsToReturn, type ClientSession, type DataValue, type HistoryData, type NodeId } from 'node-opcua';
import { errorMessage } from '../opcua-error';

/** One node whose raw history to read from `from` (exclusive) to the common end. */
export interface HistoryRequest {
  key: string;
  nodeId: NodeId;
  /** Only values with a source time after this (ms since 1970) are returned. */
  after: number;
}

/** The history of one node, or why there is none. */
export interface HistoryOutcome {
  key: string;
  ok: boolean;
  /** `Good`, `GoodNoData`, or the Bad status (`BadHistoryOperationUnsupported`, `BadNotReadable`, ...) or the call's error. */
  status: string;
  /** Values with source time in (after, to], oldest first. */
  values: DataValue[];
}

/**
 * Reads raw history (ReadRawModifiedDetails, not modified values) for many
 * nodes up to `to`: nodes are read `nodesPerCall` at a time from the earliest
 * `after` of the call, following continuation points, at most
 * `valuesPerNode` values per node and answer. Values at or before a node's
 * own `after` are dropped, so every node gets exactly its missing interval.
 * A node the server cannot serve fails alone; never rejects.
 */
export async function readRawHistory(
  session: Pick<ClientSession, 'historyRead'>,
  requests: readonly HistoryRequest[],
  to: number,
  options: { nodesPerCall: number; valuesPerNode: number; onValues?: (key: string, values: DataValue[]) => void },
): Promise<HistoryOutcome[]> {
  const outcomes = new Map<string, HistoryOutcome>();
  // Nodes with close start times share a call; sorting keeps the shared start near every node's own.
  const sorted = [...requests].sort((a, b) => a.after - b.after);
  const perCall = Math.max(1, options.nodesPerCall);
  for (let i = 0; i < sorted.length; i += perCall) {
    const part = sorted.slice(i, i + perCall);
    const from = Math.min(...part.map((p) => p.after));
    for (const p of part) outcomes.set(p.key, { key: p.key, ok: true, status: 'Good', values: [] });
    let pending = part.map((p) => ({ req: p, continuationPoint: undefined as Buffer | undefined }));
    while (pending.length > 0) {
      let response;
      try {
        response = await session.historyRead(
          new HistoryReadRequest({
            historyReadDetails: new ReadRawModifiedDetails({ isReadModified: false, startTime: new Date(from), endTime: new Date(to), numValuesPerNode: options.valuesPerNode, returnBounds: false }),
            nodesToRead: pending.map((p) => ({ nodeId: p.req.nodeId, ...(p.continuationPoint ? { continuationPoint: p.continuationPoint } : {}) })),
            timestampsToReturn: TimestampsToReturn.Both,
            releaseContinuationPoints: false,
          }),
        );
      } catch (err) {
        for (const p of pending) outcomes.set(p.req.key, { key: p.req.key, ok: false, status: errorMessage(err), values: [] });
        break;
      }
      const next: typeof pending = [];
      pending.forEach((p, j) => {
        const result = response.results?.[j];
        const outcome = outcomes.get(p.req.key)!;
        if (!result) {
          outcomes.set(p.req.key, { ...outcome, ok: false, status: 'no result' });
          return;
        }
        if (result.statusCode.isBad()) {
          outcomes.set(p.req.key, { ...outcome, ok: false, status: result.statusCode.name });
          return;
        }
        outcome.status = result.statusCode.name;
        const values = ((result.historyData as HistoryData | null)?.dataValues ?? []).filter((dv) => (dv.sourceTimestamp?.getTime() ?? dv.serverTimestamp?.getTime() ?? 0) > p.req.after);
        if (options.onValues) options.onValues(p.req.key, values);
        else outcome.values.push(...values);
        const cp = result.continuationPoint;
        if (cp && cp.length > 0) next.push({ req: p.req, continuationPoint: cp });
      });
      pending = next;
    }
  }
  return requests.map((r) => outcomes.get(r.key)!);
}
