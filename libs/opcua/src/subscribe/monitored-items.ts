import {
  AttributeIds,
  NumericRange,
  ClientMonitoredItem,
  ClientMonitoredItemGroup,
  DataChangeFilter,
  DataChangeTrigger,
  DeadbandType,
  TimestampsToReturn,
  type ClientMonitoredItemBase,
  type ClientSubscription,
  type EventFilter,
  type MonitoringParametersOptions,
  type NodeId,
} from 'node-opcua';
import type { MonitoredNode } from '../nodeset/node-set';
import { errorMessage } from '../opcua-error';

/** One value item to create: the configured node and its resolved NodeId. */
export interface ValueItemSpec {
  /** The configured node id; identifies the item to the caller. */
  key: string;
  nodeId: NodeId;
  node: MonitoredNode;
}

/** The outcome of creating one item. */
export interface ItemOutcome {
  key: string;
  ok: boolean;
  /** `Good`, or why the server refused it (`BadNodeIdUnknown`, `BadFilterNotAllowed`, ...), or the call's error. */
  status: string;
  /** Identifies the item in notifications (`MonitoredItemNotification.clientHandle`). */
  clientHandle?: number;
  /** The server's id of the item, for deleting it. */
  monitoredItemId?: number;
  /** The sampling interval the server chose. */
  revisedSamplingIntervalMs?: number;
}

/** The monitoring parameters of a node: sampling, queue, discard policy, and a DataChangeFilter when trigger or deadband differ from the default. */
export function monitoringParameters(node: MonitoredNode): MonitoringParametersOptions {
  const params: MonitoringParametersOptions = { samplingInterval: node.samplingIntervalMs, queueSize: node.queueSize, discardOldest: node.discardOldest };
  // Only send a filter when it changes something: some servers refuse any filter on non-numeric nodes.
  if (node.deadband || node.dataChangeTrigger !== 'StatusValue') {
    params.filter = new DataChangeFilter({
      trigger: DataChangeTrigger[node.dataChangeTrigger],
      deadbandType: node.deadband ? DeadbandType[node.deadband.type] : DeadbandType.None,
      deadbandValue: node.deadband?.value ?? 0,
    });
  }
  return params;
}

const paramsKey = (node: MonitoredNode): string => JSON.stringify([node.samplingIntervalMs, node.queueSize, node.discardOldest, node.dataChangeTrigger, node.deadband?.type, node.deadband?.value]);

/** Splits `items` into consecutive chunks of at most `size`. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  const n = Math.max(1, Math.floor(size));
  for (let i = 0; i < items.length; i += n) out.push(items.slice(i, i + n));
  return out;
}

/** The chunk size for a per-call limit: the smaller of ours and the server's (0 = the server states none). */
export function perCallLimit(ours: number, server: number): number {
  return Math.max(1, server > 0 ? Math.min(ours, server) : ours);
}

function awaitGroup(group: ClientMonitoredItemGroup): Promise<Error | undefined> {
  return new Promise((resolve) => {
    const onInit = (): void => {
      group.removeListener('terminated', onTerminated);
      resolve(undefined);
    };
    const onTerminated = (err?: Error): void => {
      group.removeListener('initialized', onInit);
      resolve(err ?? new Error('monitored item group terminated before it was created'));
    };
    group.once('initialized', onInit);
    group.once('terminated', onTerminated);
  });
}

/**
 * Creates value monitored items in as few CreateMonitoredItems calls as the
 * server's limit allows: items with equal parameters go in one
 * `ClientMonitoredItemGroup` per chunk of `maxPerCall`. A node the server
 * refuses (unknown, not readable, filter not allowed) fails alone; a call that
 * fails as a whole fails only its chunk. Resolves with one outcome per spec,
 * in order; never rejects. `onChunk` gets each chunk's outcomes as soon as
 * the server answered that chunk — before its first notifications can be
 * processed — so callers can map client handles to nodes in time.
 */
export async function createValueItems(subscription: ClientSubscription, specs: readonly ValueItemSpec[], maxPerCall: number, onChunk?: (outcomes: ItemOutcome[]) => void): Promise<ItemOutcome[]> {
  const byParams = new Map<string, ValueItemSpec[]>();
  for (const s of specs) {
    const k = paramsKey(s.node);
    let list = byParams.get(k);
    if (!list) byParams.set(k, (list = []));
    list.push(s);
  }
  const outcomes = new Map<string, ItemOutcome>();
  for (const group of byParams.values()) {
    for (const part of chunk(group, maxPerCall)) {
      const itemsToMonitor = part.map((s) => ({ nodeId: s.nodeId, attributeId: AttributeIds.Value, ...(s.node.indexRange ? { indexRange: new NumericRange(s.node.indexRange) } : {}) }));
      let created: ClientMonitoredItemGroup;
      try {
        created = ClientMonitoredItemGroup.create(subscription, itemsToMonitor, monitoringParameters(part[0]!.node), TimestampsToReturn.Both);
      } catch (err) {
        for (const s of part) outcomes.set(s.key, { key: s.key, ok: false, status: errorMessage(err) });
        continue;
      }
      const err = await awaitGroup(created);
      const chunkOutcomes: ItemOutcome[] = [];
      part.forEach((s, i) => {
        const item = created.monitoredItems[i] as (ClientMonitoredItemBase & { revisedSamplingInterval?: number; result?: { revisedSamplingInterval?: number } }) | undefined;
        if (err || !item) {
          const failed = { key: s.key, ok: false, status: err ? errorMessage(err) : 'no result' };
          outcomes.set(s.key, failed);
          chunkOutcomes.push(failed);
          return;
        }
        const status = item.statusCode;
        const ok = status.isGood();
        const outcome: ItemOutcome = { key: s.key, ok, status: status.name };
        if (ok) {
          outcome.clientHandle = item.monitoringParameters.clientHandle;
          outcome.monitoredItemId = item.monitoredItemId as number;
          const revised = item.result?.revisedSamplingInterval;
          if (typeof revised === 'number') outcome.revisedSamplingIntervalMs = revised;
        }
        outcomes.set(s.key, outcome);
        chunkOutcomes.push(outcome);
      });
      onChunk?.(chunkOutcomes);
    }
  }
  return specs.map((s) => outcomes.get(s.key) ?? { key: s.key, ok: false, status: 'not created' });
}

/** Creates one event monitored item on a notifier; resolves with its outcome, never rejects. */
export async function createEventItem(subscription: ClientSubscription, key: string, notifier: NodeId, filter: EventFilter, queueSize: number): Promise<ItemOutcome> {
  let item: ClientMonitoredItemBase;
  try {
    item = ClientMonitoredItem.create(subscription, { nodeId: notifier, attributeId: AttributeIds.EventNotifier }, { samplingInterval: 0, queueSize, discardOldest: false, filter }, TimestampsToReturn.Both);
  } catch (err) {
    return { key, ok: false, status: errorMessage(err) };
  }
  return new Promise((resolve) => {
    item.once('initialized', () => resolve({ key, ok: true, status: 'Good', clientHandle: item.monitoringParameters.clientHandle, monitoredItemId: item.monitoredItemId as number }));
    item.once('err', (message: string) => resolve({ key, ok: false, status: message }));
  });
}

/** Deletes monitored items by server id, in chunks; resolves with the number the server confirmed. */
export async function deleteItems(subscription: ClientSubscription, monitoredItemIds: readonly number[], maxPerCall: number): Promise<number> {
  let deleted = 0;
  for (const part of chunk(monitoredItemIds, maxPerCall)) {
    // deleteMonitoredItems is on the session implementation, not on node-opcua's ClientSession interface.
    const session = subscription.session as unknown as { deleteMonitoredItems(req: { subscriptionId: number; monitoredItemIds: number[] }): Promise<{ results?: Array<{ isGood(): boolean }> | null }> };
    const response = await session.deleteMonitoredItems({ subscriptionId: subscription.subscriptionId, monitoredItemIds: part });
    deleted += (response.results ?? []).filter((s) => s.isGood()).length;
  }
  return deleted;
}
