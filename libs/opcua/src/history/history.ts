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

/** One node's part of one HistoryRead answer, as yielded by `readRawHistoryPages`. */
export interface HistoryPage {
  key: string;
  /** Values with source time in (after, to], oldest first; may be empty. */
  values: DataValue[];
  /** True when this node is finished (no continuation point, or failed). */
  done: boolean;
  /** False when the node failed; `status` says why. */
  ok: boolean;
  /** The result's status name (`Good`, `GoodNoData`, `BadNodeIdUnknown`, ...) or the call's error. */
  status: string;
}

/**
 * Like `readRawHistory`, but hands over each HistoryRead answer as it comes
 * instead of collecting the whole range: the caller's `for await` decides when
 * the next call is made, so a slow consumer (a disk spool, a rate limit) holds
 * the server back and memory stays bounded by one answer
 * (`nodesPerCall` × `valuesPerNode`) whatever the range. Leaving the loop
 * early releases the continuation points the server still holds. Never throws
 * for a node or a call; a failed call fails its nodes.
 */
export async function* readRawHistoryPages(
  session: Pick<ClientSession, 'historyRead'>,
  requests: readonly HistoryRequest[],
  to: number,
  options: { nodesPerCall: number; valuesPerNode: number },
): AsyncGenerator<HistoryPage[], void, undefined> {
  const sorted = [...requests].sort((a, b) => a.after - b.after);
  const perCall = Math.max(1, options.nodesPerCall);
  for (let i = 0; i < sorted.length; i += perCall) {
    const part = sorted.slice(i, i + perCall);
    const from = Math.min(...part.map((p) => p.after));
    let pending = part.map((p) => ({ req: p, continuationPoint: undefined as Buffer | undefined }));
    const details = () => new ReadRawModifiedDetails({ isReadModified: false, startTime: new Date(from), endTime: new Date(to), numValuesPerNode: options.valuesPerNode, returnBounds: false });
    let completed = false;
    try {
      while (pending.length > 0) {
        let response;
        try {
          response = await session.historyRead(
            new HistoryReadRequest({
              historyReadDetails: details(),
              nodesToRead: pending.map((p) => ({ nodeId: p.req.nodeId, ...(p.continuationPoint ? { continuationPoint: p.continuationPoint } : {}) })),
              timestampsToReturn: TimestampsToReturn.Both,
              releaseContinuationPoints: false,
            }),
          );
        } catch (err) {
          const status = errorMessage(err);
          const failed = pending.map((p) => ({ key: p.req.key, values: [], done: true, ok: false, status }));
          pending = [];
          yield failed;
          break;
        }
        const next: typeof pending = [];
        const page: HistoryPage[] = pending.map((p, j) => {
          const result = response.results?.[j];
          if (!result) return { key: p.req.key, values: [], done: true, ok: false, status: 'no result' };
          if (result.statusCode.isBad()) return { key: p.req.key, values: [], done: true, ok: false, status: result.statusCode.name };
          const values = ((result.historyData as HistoryData | null)?.dataValues ?? []).filter((dv) => (dv.sourceTimestamp?.getTime() ?? dv.serverTimestamp?.getTime() ?? 0) > p.req.after);
          const cp = result.continuationPoint;
          const more = !!cp && cp.length > 0;
          if (more) next.push({ req: p.req, continuationPoint: cp });
          return { key: p.req.key, values, done: !more, ok: true, status: result.statusCode.name };
        });
        pending = next;
        yield page;
      }
      completed = true;
    } finally {
      // The consumer left early (stop, error): let the server free what it holds for us.
      if (!completed && pending.some((p) => p.continuationPoint)) {
        const held = pending.filter((p) => p.continuationPoint);
        await session
          .historyRead(
            new HistoryReadRequest({
              historyReadDetails: details(),
              nodesToRead: held.map((p) => ({ nodeId: p.req.nodeId, continuationPoint: p.continuationPoint! })),
              timestampsToReturn: TimestampsToReturn.Both,
              releaseContinuationPoints: true,
            }),
          )
          .catch(() => undefined);
      }
    }
  }
}
