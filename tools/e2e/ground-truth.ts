import {
  AttributeIds,
  HistoryReadRequest,
  MessageSecurityMode,
  OPCUACertificateManager,
  OPCUAClient,
  ReadRawModifiedDetails,
  SecurityPolicy,
  TimestampsToReturn,
  type ClientSession,
  type HistoryData,
} from 'node-opcua';

/** The simulator's plant namespace (services/plant-simulator README). */
export const PLANT_NAMESPACE_URI = 'urn:weir:plant-simulator:plant';

/** One sample of the simulator's history: its source time (ms) and value. */
export interface TruthSample {
  time: number;
  value: number | string;
}

/**
 * The simulator's own record of what it produced, read over OPC UA
 * HistoryRead (raw) with a plain node-opcua client: the simulator computes
 * its history from the seed and the run's overrides (scenario downtime,
 * writes), so it is the ground truth the platform's output is compared with.
 * Independent of the connector and of `@weir/opcua`.
 */
export class SimulatorHistory {
  private constructor(
    private readonly client: OPCUAClient,
    private readonly session: ClientSession,
    private readonly namespaceIndex: number,
    private readonly certificateManager: OPCUACertificateManager,
  ) {}

  /** Connects without security (history is public to anonymous readers); `pkiDir` holds the client's own certificate. */
  static async connect(endpointUrl: string, pkiDir: string): Promise<SimulatorHistory> {
    const clientCertificateManager = new OPCUACertificateManager({ rootFolder: pkiDir, automaticallyAcceptUnknownCertificate: true, disableFileWatchers: true });
    await clientCertificateManager.initialize();
    const client = OPCUAClient.create({
      clientCertificateManager,
      applicationName: 'weir-e2e-ground-truth',
      applicationUri: 'urn:weir:e2e:ground-truth',
      securityMode: MessageSecurityMode.None,
      securityPolicy: SecurityPolicy.None,
      endpointMustExist: false,
      connectionStrategy: { maxRetry: 3, initialDelay: 500, maxDelay: 2000 },
    });
    await client.connect(endpointUrl);
    try {
      const session = await client.createSession();
      const namespaces = (await session.read({ nodeId: 'i=2255', attributeId: AttributeIds.Value })).value.value as string[];
      const index = namespaces.indexOf(PLANT_NAMESPACE_URI);
      if (index < 0) throw new Error(`the simulator does not serve ${PLANT_NAMESPACE_URI} (namespaces: ${namespaces.join(', ')})`);
      return new SimulatorHistory(client, session, index, clientCertificateManager);
    } catch (err) {
      await client.disconnect();
      await clientCertificateManager.dispose();
      throw err;
    }
  }

  /** The NodeId of a simulator tag (`Site01.Area01.Line01.Machine01.State`). */
  nodeId(tagId: string): string {
    return `ns=${this.namespaceIndex};s=${tagId}`;
  }

  private async read(tagId: string, start: number, end: number, max: number): Promise<TruthSample[]> {
    const out: TruthSample[] = [];
    let continuationPoint: Buffer | undefined;
    do {
      const response = await this.session.historyRead(
        new HistoryReadRequest({
          historyReadDetails: new ReadRawModifiedDetails({ startTime: new Date(start), endTime: new Date(end), numValuesPerNode: Math.min(max - out.length, 10_000), isReadModified: false, returnBounds: false }),
          nodesToRead: [{ nodeId: this.nodeId(tagId), ...(continuationPoint ? { continuationPoint } : {}) }],
          timestampsToReturn: TimestampsToReturn.Source,
          releaseContinuationPoints: false,
        }),
      );
      const result = response.results![0]!;
      if (result.statusCode.isBad()) throw new Error(`HistoryRead of ${tagId} failed: ${result.statusCode.name}`);
      for (const dv of (result.historyData as HistoryData | null)?.dataValues ?? []) out.push({ time: dv.sourceTimestamp!.getTime(), value: dv.value.value as number | string });
      continuationPoint = result.continuationPoint && result.continuationPoint.length > 0 && out.length < max ? result.continuationPoint : undefined;
    } while (continuationPoint);
    return out;
  }

  /** Every sample of a tag with from <= time < to, in time order. */
  async samples(tagId: string, from: number, to: number): Promise<TruthSample[]> {
    return (await this.read(tagId, from, to, Number.MAX_SAFE_INTEGER)).filter((s) => s.time >= from && s.time < to);
  }

  /** The last sample strictly before `t`, looking back at most `lookbackMs`. */
  async lastBefore(tagId: string, t: number, lookbackMs = 2 * 86_400_000): Promise<TruthSample | undefined> {
    // A reverse read (start after end) returns the newest first.
    const [s] = (await this.read(tagId, t - 1, t - lookbackMs, 1)).filter((x) => x.time < t);
    return s;
  }

  private closed = false;

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.session.close().catch(() => undefined);
    await this.client.disconnect();
    await this.certificateManager.dispose();
  }
}

/** A stretch of a machine's state: [from, to) with the state and its reason code (0 while running). */
export interface StateStretch {
  from: number;
  to: number;
  state: string;
  reason: number;
}

/**
 * A machine's state stretches within [from, to) from its State and DownReason
 * histories (the values in force at `from` are the last samples before it):
 * one stretch per run of equal (state, reason), so a new reason while the
 * machine stays down (or idle) starts a new stretch.
 */
export async function stateStretches(history: SimulatorHistory, machine: string, from: number, to: number): Promise<StateStretch[]> {
  const stateAt = await history.lastBefore(`${machine}.State`, from + 1);
  if (!stateAt) throw new Error(`the simulator has no State sample of ${machine} before ${new Date(from).toISOString()}`);
  const states = [stateAt, ...(await history.samples(`${machine}.State`, from + 1, to))];
  const reasonAt = await history.lastBefore(`${machine}.DownReason`, from + 1);
  const reasons = [...(reasonAt ? [reasonAt] : []), ...(await history.samples(`${machine}.DownReason`, from + 1, to))];
  const inForce = (list: TruthSample[], t: number): TruthSample | undefined => list.filter((s) => s.time <= t).at(-1);
  const changes = [...new Set([from, ...states.map((s) => s.time), ...reasons.map((s) => s.time)].filter((t) => t >= from && t < to))].sort((a, b) => a - b);
  const out: StateStretch[] = [];
  for (const [i, t] of changes.entries()) {
    const state = String(inForce(states, t)!.value);
    const reason = state === 'running' ? 0 : Number(inForce(reasons, t)?.value ?? 0);
    const end = changes[i + 1] ?? to;
    const last = out.at(-1);
    if (last && last.state === state && last.reason === reason) last.to = end;
    else out.push({ from: t, to: end, state, reason });
  }
  return out;
}

/** The value of a counter in force just before `t` (its last sample before `t`). */
export async function counterBefore(history: SimulatorHistory, tagId: string, t: number): Promise<number> {
  const s = await history.lastBefore(tagId, t);
  if (!s) throw new Error(`the simulator has no sample of ${tagId} before ${new Date(t).toISOString()}`);
  return Number(s.value);
}
