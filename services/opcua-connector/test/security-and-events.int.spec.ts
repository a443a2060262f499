import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { openClientPki, isOpcuaError, type ReadOnlyConnection } from '@weir/opcua';
import { connectClient, PLANT_NAMESPACE_URI, type PlantSimulator } from '@weir/plant-simulator';
import { metricValue, removeTempDirs, tempDir, uniqueTopicPrefix, waitFor } from '@weir/testing';
import { AddNodesRequest, AttributeIds, CallRequest, DataType, DeleteNodesRequest, HistoryUpdateRequest, WriteRequest, type ClientSession } from 'node-opcua';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { collect, OPERATOR, settingsFor, startInProcess, startSim, type Collected, type InProcessConnector } from './helpers';

const M1 = 'Site01.Area01.Line01.Machine01';
const APP_URI = 'urn:weir:opcua-connector:test';

async function refused(what: () => unknown): Promise<string> {
  try {
    await what();
  } catch (err) {
    if (isOpcuaError(err, 'OPCUA.WRITE_REFUSED')) return 'refused';
    return `other error: ${(err as Error).message}`;
  }
  return 'sent';
}

describe('opcua-connector: security, read-only session, events', () => {
  const brokers = inject('kafkaBrokers');
  let sim: PlantSimulator;
  let running: InProcessConnector | undefined;
  let untrusting: InProcessConnector | undefined;
  let reader: Collected | undefined;
  let prefix: string;

  beforeAll(async () => {
    // Unknown client certificates are refused by this server: the connector's certificate must be trusted explicitly.
    sim = await startSim({ plant: { linesPerArea: 1, machinesPerLine: 2 }, security: { autoAcceptUnknownCertificates: false } });
  });

  afterAll(async () => {
    await untrusting?.connector.stop();
    await running?.connector.stop();
    await reader?.stop();
    await sim?.stop();
    removeTempDirs();
  });

  it('connects with SignAndEncrypt and a username to a trusted server, with its own certificate trusted by the server', async () => {
    const dir = tempDir('secure');
    prefix = uniqueTopicPrefix('sec');
    // The certificate is created on first start; make it now so the server can be told to trust it.
    const pki = await openClientPki({ pkiDir: join(dir, 'pki'), applicationUri: APP_URI, applicationName: 'weir-test-connector' });
    await sim.trustCertificate(pki.certificate);
    await pki.dispose();
    running = await startInProcess(
      settingsFor({
        brokers,
        prefix,
        stateDir: dir,
        sim,
        opcua: { applicationUri: APP_URI, applicationName: 'weir-test-connector' },
        sources: [
          {
            id: 'plant-secure',
            endpointUrl: sim.endpointUrl,
            securityMode: 'SignAndEncrypt',
            securityPolicy: 'Basic256Sha256',
            auth: { type: 'username', username: OPERATOR.username, password: OPERATOR.password },
            nodes: [`${M1}.Temperature`, `${M1}.Pressure`, `${M1}.State`].map((t) => sim.nodeId(t)),
            events: [{ notifier: 'i=2253', fields: [`${PLANT_NAMESPACE_URI}#ClientAddress`, `${PLANT_NAMESPACE_URI}#SessionName`] }],
          },
        ],
      }),
    );
    reader = await collect(brokers, prefix);
    await waitFor(() => (reader!.samples.filter((s) => s.nodeId === sim.nodeId(`${M1}.Temperature`)).length >= 2 ? true : undefined), { timeoutMs: 30_000, what: 'Temperature samples over the secure session' });
    const session = sim.auditLog({ type: 'AuditActivateSessionEventType' }).find((e) => e.actor.clientApplicationUri === APP_URI);
    expect(session?.actor).toMatchObject({ user: 'operator', tokenType: 'username', securityMode: 'SignAndEncrypt', securityPolicyUri: 'http://opcfoundation.org/UA/SecurityPolicy#Basic256Sha256' });
    expect((await running.health.report('readiness')).checks['opcua:plant-secure']).toEqual({ ok: true, detail: '3 items monitored' });
  });

  it('refuses every service that changes the server before it reaches the network; the server sees no write', async () => {
    const conn = running!.connector.sources[0]!.connection as ReadOnlyConnection;
    const nodeId = sim.nodeId(`${M1}.SpeedSetpoint`);
    const value = { value: { dataType: DataType.Double, value: 42 } };
    const sentBefore = conn.client.transactionsPerformed;
    const bytesBefore = conn.client.bytesWritten;
    const session = conn.session as unknown as Record<string, (...a: unknown[]) => unknown>;
    const raw = (conn.client as unknown as { _sessions: ClientSession[] })._sessions[0] as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
    const outcomes = {
      write: await refused(() => session['write']!({ nodeId, attributeId: AttributeIds.Value, value })),
      writeSingleNode: await refused(() => session['writeSingleNode']!(nodeId, { dataType: DataType.Double, value: 42 })),
      call: await refused(() => session['call']!({ objectId: sim.nodeId(M1), methodId: 'i=11492', inputArguments: [] })),
      writeRequest: await refused(() => session['performMessageTransaction']!(new WriteRequest({ nodesToWrite: [{ nodeId, attributeId: AttributeIds.Value, value }] }))),
      callRequest: await refused(() => session['performMessageTransaction']!(new CallRequest({ methodsToCall: [] }))),
      historyUpdate: await refused(() => session['performMessageTransaction']!(new HistoryUpdateRequest({ historyUpdateDetails: [] }))),
      addNodes: await refused(() => session['performMessageTransaction']!(new AddNodesRequest({ nodesToAdd: [] }))),
      deleteNodes: await refused(() => session['performMessageTransaction']!(new DeleteNodesRequest({ nodesToDelete: [] }))),
      // Code that reaches the raw node-opcua session behind the facade is refused by the client guard.
      rawSessionWrite: await refused(() => raw['write']!({ nodeId, attributeId: AttributeIds.Value, value })),
    };
    expect(outcomes).toEqual({ write: 'refused', writeSingleNode: 'refused', call: 'refused', writeRequest: 'refused', callRequest: 'refused', historyUpdate: 'refused', addNodes: 'refused', deleteNodes: 'refused', rawSessionWrite: 'refused' });
    expect(conn.client.transactionsPerformed).toBe(sentBefore);
    expect(conn.client.bytesWritten).toBe(bytesBefore);
    expect(sim.auditLog({ type: 'AuditWriteUpdateEventType' })).toEqual([]);
    // The session still reads: the guard refuses writes, not the session.
    expect((await conn.session.read({ nodeId, attributeId: AttributeIds.Value })).statusCode.name).toBe('Good');
  });

  it('forwards audit events of a write by someone else, with who wrote what, to ot.events.v1', async () => {
    // Control for the test above: a plain client's write reaches the server and is audited.
    const hmi = await connectClient({ endpointUrl: sim.endpointUrl, identity: { applicationUri: 'urn:weir:test:hmi', applicationName: 'weir-test-hmi', pkiDir: join(tempDir('hmi'), 'pki') }, user: OPERATOR, securityMode: 'None', securityPolicy: 'None' }).catch(async (err: unknown) => {
      throw err;
    });
    try {
      const nodeId = sim.nodeId(`${M1}.SpeedSetpoint`);
      const status = await hmi.session.write({ nodeId, attributeId: AttributeIds.Value, value: { value: { dataType: DataType.Double, value: 55 } } });
      expect(status.name).toBe('Good');
      expect(sim.auditLog({ type: 'AuditWriteUpdateEventType' })).toHaveLength(1);
      const audit = await waitFor(() => reader!.events.find((e) => e.kind === 'audit' && e.nodeId === nodeId), { timeoutMs: 20_000, what: 'the write audit event in Kafka' });
      expect(audit).toMatchObject({ sourceId: 'plant-secure', type: 'WeirAuditWriteUpdateEventType', actor: { user: 'operator', clientApplicationUri: 'urn:weir:test:hmi' }, attributes: { NewValue: 55, Status: true } });
      expect(audit.actor?.clientAddress).toMatch(/127\.0\.0\.1/);
      expect(audit.eventId).toMatch(/^[0-9a-f]+$/);
    } finally {
      await hmi.close();
    }
  });

  it('forwards alarms (ExclusiveLimitAlarm raised and cleared) to ot.events.v1', async () => {
    // The machine's temperature depends on the simulated shift (a stopped machine cools to near
    // ambient), so the bump is sized from now: its peak clears the high limit by 15 °C at any hour.
    const now = sim.model.valueAt(`${M1}.Temperature`, Date.now()).value as number;
    const delta = Math.max(0, sim.model.machine(M1).params.temperatureHigh - now) + 15;
    await sim.runStep({ at: 0, action: 'temperatureExcursion', machine: M1, duration: '6s', delta });
    const raised = await waitFor(() => reader!.events.find((e) => e.kind === 'alarm' && e.alarm?.active === true), { timeoutMs: 30_000, what: 'an active alarm event' });
    expect(raised).toMatchObject({ sourceId: 'plant-secure', type: 'ExclusiveLimitAlarmType', alarm: { conditionId: sim.nodeId(`${M1}.TemperatureAlarm`), active: true } });
    expect(raised.alarm?.limitState).toMatch(/High/);
    expect(raised.severity).toBeGreaterThan(1);
    await waitFor(() => reader!.events.find((e) => e.kind === 'alarm' && e.alarm?.active === false && Date.parse(e.time) > Date.parse(raised.time)), { timeoutMs: 30_000, what: 'the alarm to clear' });
  });

  it('refuses an untrusted server certificate with a clear message, opens no session, and says so in health and ot.events.v1', async () => {
    const dir = tempDir('untrusted');
    const otherUri = 'urn:weir:opcua-connector:untrusting';
    const settings = settingsFor({
      brokers,
      prefix,
      stateDir: dir,
      opcua: { applicationUri: otherUri },
      sources: [{ id: 'plant-untrusted', endpointUrl: sim.endpointUrl, securityMode: 'SignAndEncrypt', securityPolicy: 'Basic256Sha256', nodes: [sim.nodeId(`${M1}.Temperature`)] }],
    });
    untrusting = await startInProcess(settings);
    const failed = await waitFor(() => reader!.events.find((e) => e.sourceId === 'plant-untrusted' && e.type === 'connector.connect-failed'), { timeoutMs: 30_000, what: 'the connect-failed event' });
    expect(failed.message).toMatch(/OPCUA.SERVER_CERTIFICATE_UNTRUSTED: the server certificate of opc.tcp:\/\/127.0.0.1:\d+ .* is not trusted/);
    const health = (await untrusting.health.report('readiness')).checks['opcua:plant-untrusted'];
    expect(health?.ok).toBe(false);
    expect(health?.detail).toMatch(/not trusted .*move its certificate from .*rejected/);
    // node-opcua put the refused certificate where an operator can review and trust it.
    const rejected = join(dir, 'pki', 'rejected');
    expect(existsSync(rejected) && readdirSync(rejected).length).toBeGreaterThan(0);
    expect(sim.auditLog({ type: 'AuditCreateSessionEventType' }).filter((e) => e.actor.clientApplicationUri === otherUri)).toEqual([]);
    expect(await metricValue(untrusting.metrics, 'weir_opcua_samples_total')).toBe(0);
  });
});
