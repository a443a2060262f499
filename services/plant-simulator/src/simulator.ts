import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { hostname as osHostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AttributeIds,
  DataType,
  LocalizedText,
  OPCUACertificateManager,
  OPCUAServer,
  StatusCodes,
  Variant,
  type DataValue,
  type ISessionContext,
  type NumericRange,
  type ServerSession,
  type StatusCode,
  type UAObject,
  type UAVariable,
} from 'node-opcua';
import { Counter, createLogger, createMetricsRegistry, Gauge, type Logger, type Registry } from '@weir/observability';
import { PlantModel, type PlantModelOptions, type Sample, type SampleValue, type TagInfo, type TimeInput } from './model/plant-model';
import type { PlantShape } from './model/layout';
import { MACHINE_MODES, type MachineMode } from './model/reasons';
import { addAuditEventTypes, buildPlantNodes, DATA_TYPES, PLANT_NAMESPACE_URI, type PlantNodes } from './server/address-space';
import { actorOf, AuditLog, type AuditActor, type AuditEntry, type AuditFilter } from './server/audit';
import { ContinuationPoints, installHistory } from './server/history';
import { Ticker } from './server/ticker';
import { readCertificateDer, securityModeOf, securityPolicyOf, SECURITY_MODES, SECURITY_POLICIES, type SecurityModeName, type SecurityPolicyName } from './scenario/opcua-client';
import { ScenarioRunner, type StepResult } from './scenario/runner';
import { scenarioStepSchema, type ScenarioStepInput } from './scenario/scenario';

/** Version reported in the server's BuildInfo. */
export const SIMULATOR_VERSION = '0.1.0';

/** A user who may log in with username and password. */
export interface SimulatorUser {
  username: string;
  password: string;
}

/** Endpoint security and identities. */
export interface SimulatorSecurityOptions {
  /** Security policies offered (default None, Basic256Sha256, Aes128_Sha256_RsaOaep). */
  policies?: SecurityPolicyName[];
  /** Message security modes offered (default None, Sign, SignAndEncrypt); None pairs only with policy None. */
  modes?: SecurityModeName[];
  /** Whether anonymous sessions are accepted (default true). */
  allowAnonymous?: boolean;
  /** Whether anonymous sessions may write setpoints and Mode (default false: BadUserAccessDenied, audited). */
  anonymousCanWrite?: boolean;
  users?: SimulatorUser[];
  /** The server's PKI folder (own certificate created on first start, trusted/ and rejected/ client certificates). Default `<stateDir>/pki`. */
  pkiDir?: string;
  /** Trust any client certificate (default false: unknown certificates are rejected and land in `<pkiDir>/rejected`). */
  autoAcceptUnknownCertificates?: boolean;
  /** Client certificates to trust at start: PEM/DER file paths or DER buffers. */
  trustedCertificates?: Array<string | Buffer>;
  /** Watch the PKI folder for certificates dropped in while running (default false: read at start; use `trustCertificate`). */
  watchPkiFolder?: boolean;
}

/** Server limits (OperationLimits and ServerCapabilities); unset ones take node-opcua's defaults. */
export interface SimulatorLimits {
  maxNodesPerRead?: number;
  maxNodesPerWrite?: number;
  maxNodesPerBrowse?: number;
  maxNodesPerMethodCall?: number;
  maxNodesPerRegisterNodes?: number;
  maxNodesPerTranslateBrowsePathsToNodeIds?: number;
  maxMonitoredItemsPerCall?: number;
  maxNodesPerHistoryReadData?: number;
  maxNodesPerHistoryReadEvents?: number;
  maxSessions?: number;
  maxSubscriptions?: number;
  maxSubscriptionsPerSession?: number;
  maxMonitoredItems?: number;
  maxMonitoredItemsPerSubscription?: number;
  maxBrowseContinuationPoints?: number;
  maxConnectionsPerEndpoint?: number;
  /** Values per node in one HistoryRead answer (default 10,000); more come through continuation points. */
  maxHistoryValuesPerNode?: number;
  /** Grid evaluations per node per HistoryRead answer (default 500,000): bounds time spent on sparse tags. */
  maxHistoryStepsPerNode?: number;
}

/** Everything `startPlantSimulator` accepts; every field has a default. */
export interface PlantSimulatorOptions {
  /** TCP port (default 4840). */
  port?: number;
  /** Address to listen on (default 127.0.0.1; 0.0.0.0 for all interfaces). */
  host?: string;
  /** Host name in the advertised endpoint URLs and the certificate (default: host, or the machine's name when host is 0.0.0.0). */
  hostname?: string;
  /** Path after host:port in the endpoint URL (default none). */
  resourcePath?: string;
  applicationUri?: string;
  seed?: string | number;
  tickMs?: number;
  epoch?: TimeInput;
  plant?: Partial<PlantShape>;
  /** Temperature alarms on the first `maxMachines` machines (default all, up to 1000). */
  alarms?: { enabled?: boolean; maxMachines?: number };
  security?: SimulatorSecurityOptions;
  /** Folder for the PKI and scenario clients' certificates (default `<os tmp>/weir-plant-simulator`). */
  stateDir?: string;
  limits?: SimulatorLimits;
  /** Scenario steps, timed from the first tick after start. */
  scenario?: ScenarioStepInput[];
  /** Audit log entries kept in memory (default 10,000). */
  auditLogSize?: number;
  /** Ticks the live loop replays after a stall before it jumps to now (default 30). */
  maxCatchUpTicks?: number;
  logger?: Logger;
  /** Registry for the simulator's metrics (default a new one, see `simulator.metrics`). */
  metrics?: Registry;
}

/** Live counters of a running simulator. */
export interface SimulatorStats {
  tags: number;
  valueChanges: number;
  sessions: number;
  subscriptions: number;
  monitoredItems: number;
  lastPublished: number;
}

/** A running plant simulator. */
export interface PlantSimulator {
  /** `opc.tcp://<hostname>:<port><resourcePath>`. */
  readonly endpointUrl: string;
  readonly port: number;
  readonly namespaceUri: string;
  readonly namespaceIndex: number;
  readonly applicationUri: string;
  /** The server's own certificate (DER), created in the PKI folder on first start. */
  readonly certificate: Buffer;
  readonly pkiDir: string;
  /** The model with this run's overrides: what the server serves, live and as history. */
  readonly model: PlantModel;
  /** Tick of the start: scenario offsets count from the tick after it. */
  readonly startTick: number;
  readonly metrics: Registry;
  readonly server: OPCUAServer;
  /** `ns=<i>;s=<id>` for a tag or machine id (`Site01.Area01.Line01.Machine01.Temperature`). */
  nodeId(id: string): string;
  /** The sample in effect at `time` (value and its source timestamp). */
  valueAt(ref: string, time: TimeInput): Sample;
  /** Every sample in [from, to], oldest first, as HistoryRead returns them. */
  samplesBetween(ref: string, from: TimeInput, to: TimeInput): Sample[];
  /** Audit log entries (writes, sessions), oldest first. */
  auditLog(filter?: AuditFilter): AuditEntry[];
  /** Runs a scenario step now and resolves with its outcome. */
  runStep(step: ScenarioStepInput): Promise<StepResult>;
  /** Schedules steps relative to the next tick. */
  scheduleScenario(steps: ScenarioStepInput[]): StepResult[];
  /** Outcomes of every step so far. */
  scenarioResults(): StepResult[];
  /** Trusts a client certificate (DER buffer or PEM/DER file). */
  trustCertificate(cert: Buffer | string): Promise<void>;
  /** Trusts a user's certificate for X.509 login (DER buffer or PEM/DER file); untrusted ones are refused. */
  trustUserCertificate(cert: Buffer | string): Promise<void>;
  stats(): SimulatorStats;
  /** Stops scenario timers, the tick loop and the server, and releases the PKI. */
  stop(): Promise<void>;
}

const DEFAULT_POLICIES: SecurityPolicyName[] = ['None', 'Basic256Sha256', 'Aes128_Sha256_RsaOaep'];
const DEFAULT_MODES: SecurityModeName[] = ['None', 'Sign', 'SignAndEncrypt'];

type WriteCallback = (err: Error | null, statusCode?: StatusCode) => void;
type WriteValue = (context: ISessionContext, dataValue: DataValue, indexRange?: NumericRange | string | null | WriteCallback, callback?: WriteCallback) => void | Promise<StatusCode>;

/** Starts an OPC UA server serving a deterministic ISA-95 plant. */
export async function startPlantSimulator(options: PlantSimulatorOptions = {}): Promise<PlantSimulator> {
  const started = Date.now();
  const logger = options.logger ?? createLogger({ service: 'plant-simulator', level: 'silent' });
  const modelOptions: PlantModelOptions = { ...(options.seed !== undefined ? { seed: options.seed } : {}), ...(options.tickMs !== undefined ? { tickMs: options.tickMs } : {}), ...(options.epoch !== undefined ? { epoch: options.epoch } : {}), ...(options.plant ? { shape: options.plant } : {}) };
  const model = new PlantModel(modelOptions);
  const scenarioSteps = (options.scenario ?? []).map((s) => scenarioStepSchema.parse(s));
  const sec = options.security ?? {};
  const policies = sec.policies ?? DEFAULT_POLICIES;
  const modes = sec.modes ?? DEFAULT_MODES;
  for (const p of policies) if (!SECURITY_POLICIES.includes(p)) throw new Error(`SIMULATOR.INVALID_POLICY: ${p}`);
  for (const m of modes) if (!SECURITY_MODES.includes(m)) throw new Error(`SIMULATOR.INVALID_MODE: ${m}`);
  const users = new Map((sec.users ?? []).map((u) => [u.username, u.password]));
  const stateDir = options.stateDir ?? join(tmpdir(), 'weir-plant-simulator');
  const pkiDir = sec.pkiDir ?? join(stateDir, 'pki');
  mkdirSync(pkiDir, { recursive: true });
  const host = options.host ?? '127.0.0.1';
  const hostname = options.hostname ?? (host === '0.0.0.0' || host === '::' ? osHostname() : host);
  const port = options.port ?? 4840;
  const resourcePath = options.resourcePath ?? '';
  const applicationUri = options.applicationUri ?? 'urn:weir:plant-simulator';
  const limits = options.limits ?? {};

  const certificateManager = new OPCUACertificateManager({ rootFolder: pkiDir, automaticallyAcceptUnknownCertificate: sec.autoAcceptUnknownCertificates ?? false, disableFileWatchers: !(sec.watchPkiFolder ?? false), name: 'PKI' });
  await certificateManager.initialize();
  const userCertificateManager = new OPCUACertificateManager({ rootFolder: join(pkiDir, 'user-identities'), automaticallyAcceptUnknownCertificate: false, disableFileWatchers: true, name: 'UserPKI' });
  await userCertificateManager.initialize();
  for (const c of sec.trustedCertificates ?? []) await certificateManager.trustCertificate(typeof c === 'string' ? readCertificateDer(c) : c);

  // ---------------------------------------------------------------- server
  const audit = new AuditLog(options.auditLogSize ?? 10_000);

  const server: OPCUAServer = new OPCUAServer({
    port,
    host,
    hostname,
    alternateHostname: hostname === host ? [] : [host],
    resourcePath,
    serverCertificateManager: certificateManager,
    userCertificateManager,
    securityPolicies: policies.map(securityPolicyOf),
    securityModes: modes.map(securityModeOf),
    allowAnonymous: sec.allowAnonymous ?? true,
    isAuditing: true,
    serverInfo: { applicationUri, productUri: 'urn:weir:plant-simulator', applicationName: { text: 'Weir plant simulator' } },
    buildInfo: { productName: 'Weir plant simulator', productUri: 'urn:weir:plant-simulator', manufacturerName: 'Weir', softwareVersion: SIMULATOR_VERSION, buildNumber: SIMULATOR_VERSION, buildDate: new Date(0) },
    maxConnectionsPerEndpoint: limits.maxConnectionsPerEndpoint ?? 100,
    serverCapabilities: {
      maxSessions: limits.maxSessions ?? 100,
      ...(limits.maxSubscriptions !== undefined ? { maxSubscriptions: limits.maxSubscriptions } : {}),
      ...(limits.maxSubscriptionsPerSession !== undefined ? { maxSubscriptionsPerSession: limits.maxSubscriptionsPerSession } : {}),
      ...(limits.maxMonitoredItems !== undefined ? { maxMonitoredItems: limits.maxMonitoredItems } : {}),
      ...(limits.maxMonitoredItemsPerSubscription !== undefined ? { maxMonitoredItemsPerSubscription: limits.maxMonitoredItemsPerSubscription } : {}),
      ...(limits.maxBrowseContinuationPoints !== undefined ? { maxBrowseContinuationPoints: limits.maxBrowseContinuationPoints } : {}),
      operationLimits: {
        ...(limits.maxNodesPerRead !== undefined ? { maxNodesPerRead: limits.maxNodesPerRead } : {}),
        ...(limits.maxNodesPerWrite !== undefined ? { maxNodesPerWrite: limits.maxNodesPerWrite } : {}),
        ...(limits.maxNodesPerBrowse !== undefined ? { maxNodesPerBrowse: limits.maxNodesPerBrowse } : {}),
        ...(limits.maxNodesPerMethodCall !== undefined ? { maxNodesPerMethodCall: limits.maxNodesPerMethodCall } : {}),
        ...(limits.maxNodesPerRegisterNodes !== undefined ? { maxNodesPerRegisterNodes: limits.maxNodesPerRegisterNodes } : {}),
        ...(limits.maxNodesPerTranslateBrowsePathsToNodeIds !== undefined ? { maxNodesPerTranslateBrowsePathsToNodeIds: limits.maxNodesPerTranslateBrowsePathsToNodeIds } : {}),
        ...(limits.maxMonitoredItemsPerCall !== undefined ? { maxMonitoredItemsPerCall: limits.maxMonitoredItemsPerCall } : {}),
        ...(limits.maxNodesPerHistoryReadData !== undefined ? { maxNodesPerHistoryReadData: limits.maxNodesPerHistoryReadData } : {}),
        ...(limits.maxNodesPerHistoryReadEvents !== undefined ? { maxNodesPerHistoryReadEvents: limits.maxNodesPerHistoryReadEvents } : {}),
      },
    },
    userManager: {
      isValidUser(this: ServerSession, username: string, password: string): boolean {
        const ok = users.has(username) && users.get(username) === password;
        if (!ok) {
          // node-opcua raises audit events only for successful activations; record the failure ourselves.
          const actor = actorOf(this, username);
          audit.add({ time: Date.now(), type: 'AuditActivateSessionEventType', status: false, statusCode: 'BadUserAccessDenied', message: `login of "${username}" rejected`, actor });
          raiseServerEvent('AuditActivateSessionEventType', { sourceName: { dataType: DataType.String, value: 'Session/ActivateSession' }, message: { dataType: DataType.LocalizedText, value: new LocalizedText({ text: `login of "${username}" rejected` }) }, severity: { dataType: DataType.UInt16, value: 700 }, actionTimeStamp: { dataType: DataType.DateTime, value: new Date() }, status: { dataType: DataType.Boolean, value: false }, clientUserId: { dataType: DataType.String, value: username }, serverId: { dataType: DataType.String, value: applicationUri } });
        }
        return ok;
      },
    },
  });
  // ---------------------------------------------------------------- metrics
  const registry = options.metrics ?? createMetricsRegistry('plant-simulator', { defaultMetrics: false });
  const metricNames: string[] = [];
  const track = <T,>(name: string, m: T): T => {
    metricNames.push(name);
    return m;
  };
  const monitoredItems = (): number => (server.engine?.getSessions() ?? []).reduce((n, s) => n + s.currentMonitoredItemCount, 0);
  const valueChanges = track('weir_plant_simulator_value_changes_total', new Counter({ name: 'weir_plant_simulator_value_changes_total', help: 'Variable value changes published (rate() gives value changes per second)', registers: [registry] }));
  const tickLag = track('weir_plant_simulator_tick_lag_seconds', new Gauge({ name: 'weir_plant_simulator_tick_lag_seconds', help: 'How late the last tick was published after its grid time', registers: [registry] }));
  track('weir_plant_simulator_sessions', new Gauge({ name: 'weir_plant_simulator_sessions', help: 'Open OPC UA sessions', registers: [registry], collect() { this.set(server.currentSessionCount ?? 0); } }));
  track('weir_plant_simulator_subscriptions', new Gauge({ name: 'weir_plant_simulator_subscriptions', help: 'OPC UA subscriptions', registers: [registry], collect() { this.set(server.currentSubscriptionCount ?? 0); } }));
  track('weir_plant_simulator_monitored_items', new Gauge({ name: 'weir_plant_simulator_monitored_items', help: 'OPC UA monitored items', registers: [registry], collect() { this.set(monitoredItems()); } }));
  track('weir_plant_simulator_tags', new Gauge({ name: 'weir_plant_simulator_tags', help: 'Simulated tags (variables)', registers: [registry], collect() { this.set(model.tags.length); } }));
  const writes = track('weir_plant_simulator_writes_total', new Counter({ name: 'weir_plant_simulator_writes_total', help: 'Client writes to setpoints and Mode, by outcome', labelNames: ['outcome'], registers: [registry] }));
  const historyValues = track('weir_plant_simulator_history_values_total', new Counter({ name: 'weir_plant_simulator_history_values_total', help: 'Values returned by HistoryRead', registers: [registry] }));
  const auditEvents = track('weir_plant_simulator_audit_events_total', new Counter({ name: 'weir_plant_simulator_audit_events_total', help: 'Audit log entries, by event type and status', labelNames: ['type', 'status'], registers: [registry] }));
  let totalChanges = 0;
  audit.onEntry((e) => auditEvents.inc({ type: e.type, status: String(e.status) }));

  function raiseServerEvent(type: string, data: Record<string, unknown>): void {
    server.engine?.addressSpace?.rootFolder.objects.server.raiseEvent(type, data as Parameters<UAObject['raiseEvent']>[1]);
  }

  await server.initialize();
  const addressSpace = server.engine.addressSpace!;
  addressSpace.installAlarmsAndConditionsService();
  const nodes: PlantNodes = buildPlantNodes(addressSpace, model, { alarmMachines: options.alarms?.enabled === false ? 0 : Math.min(options.alarms?.maxMachines ?? 1000, model.machines.length) });
  const writeAuditType = addAuditEventTypes(nodes.namespace);
  const history = server.engine.historyServerCapabilities;
  history.accessHistoryDataCapability = true;
  history.maxReturnDataValues = limits.maxHistoryValuesPerNode ?? 10_000;

  // ---------------------------------------------------------------- live values, history, writes
  const ticker = new Ticker(model, nodes.variables, {
    maxCatchUpTicks: options.maxCatchUpTicks ?? 30,
    logger,
    onChanges: (n, lagMs) => {
      totalChanges += n;
      valueChanges.inc(n);
      tickLag.set(lagMs / 1000);
    },
  });
  const points = new ContinuationPoints();
  const historyDeps = {
    model,
    limits: { maxValuesPerNode: limits.maxHistoryValuesPerNode ?? 10_000, maxStepsPerNode: limits.maxHistoryStepsPerNode ?? 500_000 },
    points,
    now: () => Date.now(),
    onValues: (n: number) => historyValues.inc(n),
    onError: (err: unknown, tag: TagInfo) => logger.error({ err, tag: tag.id }, 'history read failed'),
  };
  const lastWrite = new Map<string, number>();
  for (const tag of model.tags) {
    const variable = nodes.variables.get(tag.id)!;
    installHistory(variable, tag, historyDeps);
    if (tag.writable) installWrite(variable, tag);
  }

  function installWrite(variable: UAVariable, tag: TagInfo): void {
    const machineObject = nodes.machineObjects.get(tag.machine.id)!;
    const write: WriteValue = (context, dataValue, indexRangeOrCallback, maybeCallback) => {
      const callback = typeof indexRangeOrCallback === 'function' ? indexRangeOrCallback : maybeCallback;
      const indexRange = typeof indexRangeOrCallback === 'function' ? undefined : indexRangeOrCallback;
      const status = handleWrite(variable, tag, machineObject, context, dataValue, indexRange);
      if (callback) {
        callback(null, status);
        return;
      }
      return Promise.resolve(status);
    };
    (variable as unknown as { writeValue: WriteValue }).writeValue = write;
  }

  function raiseWriteAudit(source: UAObject, data: Record<string, unknown>): void {
    source.raiseEvent(writeAuditType, data as Parameters<UAObject['raiseEvent']>[1]);
  }

  function handleWrite(variable: UAVariable, tag: TagInfo, machineObject: UAObject, context: ISessionContext, dataValue: DataValue, indexRange: NumericRange | string | null | undefined): StatusCode {
    const session = context.session as ServerSession | undefined;
    const actor: AuditActor = session ? actorOf(session) : { user: 'in-process', tokenType: 'unknown' };
    const oldValue = variable.readValue().value.value as SampleValue | null;
    const variant = dataValue.value;
    let newValue: SampleValue | null = variant && variant.value !== undefined && variant.value !== null ? (variant.value as SampleValue) : null;
    let status: StatusCode = StatusCodes.Good;
    const emptyRange = indexRange === undefined || indexRange === null || indexRange === '' || (typeof indexRange === 'object' && typeof (indexRange as { isEmpty?: () => boolean }).isEmpty === 'function' && indexRange.isEmpty());
    const rangeText = emptyRange ? '' : String(indexRange);
    const numeric = [DataType.Double, DataType.Float, DataType.Int16, DataType.Int32, DataType.Int64, DataType.UInt16, DataType.UInt32, DataType.Byte, DataType.SByte];
    // Setpoints and Mode are scalars: writing part of one is not supported.
    if (!emptyRange) status = StatusCodes.BadWriteNotSupported;
    else if (actor.tokenType === 'anonymous' && !(sec.anonymousCanWrite ?? false)) status = StatusCodes.BadUserAccessDenied;
    else if (tag.kind === 'mode') {
      if (!variant || variant.dataType !== DataType.String) status = StatusCodes.BadTypeMismatch;
      else if (!MACHINE_MODES.includes(newValue as MachineMode)) status = StatusCodes.BadOutOfRange;
    } else if (!variant || !numeric.includes(variant.dataType) || typeof newValue !== 'number' || !Number.isFinite(newValue)) {
      status = StatusCodes.BadTypeMismatch;
    } else {
      const max = tag.kind === 'speedSetpoint' ? 2 * tag.machine.params.speedNominal : 400;
      if (newValue < 0 || newValue > max) status = StatusCodes.BadOutOfRange;
    }
    let time = Date.now();
    if (status.isGood() && newValue !== null) {
      // A write takes effect after the last published tick and after any earlier write of the tag,
      // so history already served never changes.
      time = Math.max(time, ticker.lastPublished + 1, (lastWrite.get(tag.id) ?? 0) + 1);
      lastWrite.set(tag.id, time);
      model.addValueOverride(tag.id, time, newValue);
      variable.setValueFromSource(new Variant({ dataType: DATA_TYPES[tag.dataType], value: newValue }), StatusCodes.Good, new Date(time));
    } else if (status.isGood()) {
      status = StatusCodes.BadTypeMismatch;
    }
    if (!status.isGood()) newValue = variant?.value === undefined ? null : (variant.value as SampleValue);
    writes.inc({ outcome: status.isGood() ? 'accepted' : 'rejected' });
    const message = `${actor.user} wrote ${tag.id} = ${String(newValue)} (was ${String(oldValue)}) from ${actor.clientAddress ?? 'in-process'}: ${status.name}`;
    audit.add({ time, type: 'AuditWriteUpdateEventType', status: status.isGood(), statusCode: status.name, message, actor, nodeId: variable.nodeId.toString(), tag: tag.id, oldValue, newValue });
    try {
      raiseWriteAudit(machineObject, {
      sourceNode: { dataType: DataType.NodeId, value: variable.nodeId },
      sourceName: { dataType: DataType.String, value: 'Attribute/Write' },
      message: { dataType: DataType.LocalizedText, value: new LocalizedText({ text: message }) },
      severity: { dataType: DataType.UInt16, value: status.isGood() ? 500 : 700 },
      time: { dataType: DataType.DateTime, value: new Date(time) },
      actionTimeStamp: { dataType: DataType.DateTime, value: new Date(time) },
      status: { dataType: DataType.Boolean, value: status.isGood() },
      serverId: { dataType: DataType.String, value: applicationUri },
      clientAuditEntryId: { dataType: DataType.String, value: randomUUID() },
      clientUserId: { dataType: DataType.String, value: actor.user },
      attributeId: { dataType: DataType.UInt32, value: AttributeIds.Value },
      indexRange: { dataType: DataType.String, value: rangeText },
      oldValue: oldValue === null ? { dataType: DataType.Null } : { dataType: DATA_TYPES[tag.dataType], value: oldValue },
      newValue: newValue === null ? { dataType: DataType.Null } : typeof newValue === 'string' ? { dataType: DataType.String, value: newValue } : { dataType: DataType.Double, value: newValue },
      clientAddress: { dataType: DataType.String, value: actor.clientAddress ?? '' },
      clientApplicationUri: { dataType: DataType.String, value: actor.clientApplicationUri ?? '' },
      sessionName: { dataType: DataType.String, value: actor.sessionName ?? '' },
      securityPolicyUri: { dataType: DataType.String, value: actor.securityPolicyUri ?? '' },
      sessionId: { dataType: DataType.NodeId, value: session?.nodeId ?? null },
      });
    } catch (err) {
      logger.error({ err, tag: tag.id }, 'raising the write audit event failed');
    }
    logger.info({ tag: tag.id, user: actor.user, clientAddress: actor.clientAddress, status: status.name }, 'write');
    return status;
  }

  // ---------------------------------------------------------------- session audit
  server.on('create_session', (session: ServerSession) => {
    audit.add({ time: Date.now(), type: 'AuditCreateSessionEventType', status: true, statusCode: 'Good', message: `session "${session.sessionName}" created`, actor: actorOf(session) });
  });
  server.on('session_activated', (session: ServerSession) => {
    const actor = actorOf(session);
    audit.add({ time: Date.now(), type: 'AuditActivateSessionEventType', status: true, statusCode: 'Good', message: `session "${session.sessionName}" activated by ${actor.user}`, actor });
  });
  server.on('session_closed', (session: ServerSession) => {
    audit.add({ time: Date.now(), type: 'AuditSessionEventType', status: true, statusCode: 'Good', message: `session "${session.sessionName}" closed`, actor: actorOf(session) });
  });

  try {
    ticker.start();
    await server.start();
  } catch (err) {
    // A port in use is the usual cause; release what was taken so the caller can retry.
    ticker.stop();
    await server.shutdown(0).catch(() => undefined);
    await certificateManager.dispose();
    await userCertificateManager.dispose();
    for (const name of metricNames) registry.removeSingleMetric(name);
    throw new Error(`SIMULATOR.START_FAILED: cannot serve on ${host}:${port}: ${(err as Error).message}`, { cause: err });
  }
  const endpointUrl = `opc.tcp://${hostname}:${port}${resourcePath}`;
  const startTick = ticker.lastPublished;

  const runner = new ScenarioRunner({
    model,
    endpointUrl,
    namespaceIndex: nodes.namespaceIndex,
    users,
    stateDir,
    offered: { policies, modes },
    trustClientCertificate: (der) => certificateManager.trustCertificate(der),
    nextTick: () => ticker.lastPublished + model.tickMs,
    logger,
  });
  if (scenarioSteps.length > 0) runner.schedule(scenarioSteps, startTick + model.tickMs);

  logger.info({ endpointUrl, tags: model.tags.length, machines: model.machines.length, alarms: nodes.alarms.size, seed: model.seed, startupMs: Date.now() - started }, 'plant simulator listening');

  let stopping: Promise<void> | undefined;
  const certificate = readCertificateDer(join(certificateManager.rootDir, 'own', 'certs', 'certificate.pem'));
  return {
    endpointUrl,
    port,
    namespaceUri: PLANT_NAMESPACE_URI,
    namespaceIndex: nodes.namespaceIndex,
    applicationUri,
    certificate,
    pkiDir,
    model,
    startTick,
    metrics: registry,
    server,
    nodeId: (id) => `ns=${nodes.namespaceIndex};s=${id}`,
    valueAt: (ref, time) => model.valueAt(ref, time),
    samplesBetween: (ref, from, to) => model.samplesBetween(ref, from, to),
    auditLog: (filter) => audit.list(filter),
    runStep: (step) => runner.run(scenarioStepSchema.parse(step)),
    scheduleScenario: (steps) => runner.schedule(steps.map((s) => scenarioStepSchema.parse(s)), ticker.lastPublished + model.tickMs),
    scenarioResults: () => runner.results(),
    trustCertificate: (cert) => certificateManager.trustCertificate(typeof cert === 'string' ? readCertificateDer(cert) : cert),
    trustUserCertificate: (cert) => userCertificateManager.trustCertificate(typeof cert === 'string' ? readCertificateDer(cert) : cert),
    stats: () => ({ tags: model.tags.length, valueChanges: totalChanges, sessions: server.currentSessionCount ?? 0, subscriptions: server.currentSubscriptionCount ?? 0, monitoredItems: monitoredItems(), lastPublished: ticker.lastPublished }),
    stop: () => {
      stopping ??= (async () => {
        await runner.stop();
        ticker.stop();
        await server.shutdown(0);
        await certificateManager.dispose();
        await userCertificateManager.dispose();
        for (const name of metricNames) registry.removeSingleMetric(name);
        logger.info({ endpointUrl }, 'plant simulator stopped');
      })();
      return stopping;
    },
  };
}
