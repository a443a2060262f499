import {
  AttributeIds,
  ClientMonitoredItem,
  ClientSubscription,
  constructEventFilter,
  HistoryReadRequest,
  ReadRawModifiedDetails,
  TimestampsToReturn,
  type ClientSession,
  type DataValue,
  type HistoryData,
  type Variant,
} from 'node-opcua';
import { freePort, tempDir } from '@weir/testing';
import { startPlantSimulator, type PlantSimulator, type PlantSimulatorOptions, type Sample } from '../src/index';

/** Users every test simulator knows. */
export const USERS = [
  { username: 'operator', password: 'operator-secret' },
  { username: 'engineer', password: 'engineer-secret' },
];


/**
 * Starts a simulator on a free loopback port with a temp state folder, the test
 * users, and — unlike the production default — unknown client certificates accepted.
 */
export async function startTestSimulator(options: PlantSimulatorOptions = {}): Promise<PlantSimulator> {
  return startPlantSimulator({
    port: await freePort(),
    stateDir: tempDir('sim'),
    seed: 'int-test',
    ...options,
    security: { users: USERS, autoAcceptUnknownCertificates: true, ...options.security },
  });
}

/** Subscribes to value changes of some nodes (exception-based, big queues) and records them. */
export async function recordValues(session: ClientSession, nodeIds: string[]): Promise<{ values: Map<string, DataValue[]>; stop: () => Promise<void> }> {
  const subscription = ClientSubscription.create(session, { requestedPublishingInterval: 100, requestedLifetimeCount: 600, requestedMaxKeepAliveCount: 20, maxNotificationsPerPublish: 0, publishingEnabled: true, priority: 1 });
  const values = new Map<string, DataValue[]>(nodeIds.map((n) => [n, []]));
  for (const nodeId of nodeIds) {
    const item = ClientMonitoredItem.create(subscription, { nodeId, attributeId: AttributeIds.Value }, { samplingInterval: 0, queueSize: 1000, discardOldest: false }, TimestampsToReturn.Both);
    item.on('changed', (dv: DataValue) => values.get(nodeId)!.push(dv));
  }
  return { values, stop: () => subscription.terminate() };
}

/** Subscribes to events of a notifier (default: the Server object) with the given select fields. */
export async function recordEvents(session: ClientSession, fields: string[], notifier = 'i=2253'): Promise<{ events: Array<Record<string, unknown>>; stop: () => Promise<void> }> {
  const subscription = ClientSubscription.create(session, { requestedPublishingInterval: 100, requestedLifetimeCount: 600, requestedMaxKeepAliveCount: 20, maxNotificationsPerPublish: 0, publishingEnabled: true, priority: 1 });
  const events: Array<Record<string, unknown>> = [];
  const item = ClientMonitoredItem.create(subscription, { nodeId: notifier, attributeId: AttributeIds.EventNotifier }, { samplingInterval: 0, queueSize: 10_000, discardOldest: false, filter: constructEventFilter(fields) }, TimestampsToReturn.Both);
  item.on('changed', (variants: Variant[] | unknown) => {
    const list = variants as Variant[];
    events.push(Object.fromEntries(fields.map((f, i) => [f, list[i]?.value])));
  });
  await new Promise<void>((resolve) => item.once('initialized', () => resolve()));
  return { events, stop: () => subscription.terminate() };
}

/** Reads raw history of one node over [from, to] following continuation points; returns the samples (unless countOnly), their count and the number of calls. */
export async function readHistory(session: ClientSession, nodeId: string, from: number, to: number, numValuesPerNode: number, countOnly = false): Promise<{ samples: Sample[]; calls: number; count: number }> {
  const samples: Sample[] = [];
  let continuationPoint: Buffer | undefined;
  let calls = 0;
  let count = 0;
  do {
    const response = await session.historyRead(
      new HistoryReadRequest({
        historyReadDetails: new ReadRawModifiedDetails({ startTime: new Date(from), endTime: new Date(to), numValuesPerNode, isReadModified: false, returnBounds: false }),
        nodesToRead: [{ nodeId, ...(continuationPoint ? { continuationPoint } : {}) }],
        timestampsToReturn: TimestampsToReturn.Source,
        releaseContinuationPoints: false,
      }),
    );
    calls++;
    const result = response.results![0]!;
    if (result.statusCode.isBad()) throw new Error(`history read of ${nodeId} failed: ${result.statusCode.name}`);
    const dataValues = (result.historyData as HistoryData | null)?.dataValues ?? [];
    count += dataValues.length;
    if (!countOnly) for (const dv of dataValues) samples.push({ time: dv.sourceTimestamp!.getTime(), value: dv.value.value as number | string });
    continuationPoint = result.continuationPoint && result.continuationPoint.length > 0 ? result.continuationPoint : undefined;
  } while (continuationPoint);
  return { samples, calls, count };
}
