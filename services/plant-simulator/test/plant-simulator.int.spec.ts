import { removeTempDirs, tempDir, waitFor } from '@weir/testing';
import { join } from 'node:path';
import { AttributeIds, BrowseDirection, DataType, NumericRange, type ClientSession, type NodeId, type ReferenceDescription, type StatusCode, type WriteValueOptions } from 'node-opcua';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient, PLANT_NAMESPACE_URI, prepareClientIdentity, SCENARIO_HMI_URI, startPlantSimulator, type ClientConnection, type ClientIdentity, type PlantSimulator } from '../src/index';
import { readHistory, recordEvents, recordValues, startTestSimulator, USERS } from './helpers';

const M1 = 'Site01.Area01.Line01.Machine01';
const M2 = 'Site01.Area01.Line01.Machine02';
const operator = USERS[0]!;
const engineer = USERS[1]!;

describe('plant simulator over opc.tcp', () => {
  let sim: PlantSimulator;
  let identity: ClientIdentity;
  let conn: ClientConnection;
  let session: ClientSession;

  beforeAll(async () => {
    sim = await startTestSimulator({ plant: { sites: 1, areasPerSite: 1, linesPerArea: 2, machinesPerLine: 3, extraTagsPerMachine: 2 } });
    identity = { applicationUri: 'urn:weir:test:client', applicationName: 'weir-test-client', pkiDir: join(tempDir('client'), 'pki') };
    conn = await connectClient({ endpointUrl: sim.endpointUrl, identity, user: operator });
    session = conn.session;
  });

  afterAll(async () => {
    await conn?.close();
    await sim?.stop();
  });

  it('serves the ISA-95 tree under Objects/Plant with stable string NodeIds in its own namespace', async () => {
    const namespaces = (await session.readNamespaceArray()) as string[];
    expect(namespaces[sim.namespaceIndex]).toBe(PLANT_NAMESPACE_URI);
    const children = async (nodeId: string | NodeId): Promise<ReferenceDescription[]> => {
      const r = await session.browse({ nodeId, browseDirection: BrowseDirection.Forward, referenceTypeId: 'HierarchicalReferences', includeSubtypes: true, resultMask: 63 });
      const seen = new Set<string>();
      return (r.references ?? []).filter((ref) => !seen.has(ref.nodeId.toString()) && seen.add(ref.nodeId.toString()));
    };
    const plant = (await children('i=85')).find((r) => r.browseName.name === 'Plant');
    expect(plant?.nodeId.toString()).toBe(`ns=${sim.namespaceIndex};s=Plant`);
    const sites = await children(plant!.nodeId);
    expect(sites.map((r) => r.browseName.name)).toEqual(['Site01']);
    const areas = await children(sites[0]!.nodeId);
    const lines = await children(areas[0]!.nodeId);
    expect(lines.map((r) => r.nodeId.toString())).toEqual([`ns=${sim.namespaceIndex};s=Site01.Area01.Line01`, `ns=${sim.namespaceIndex};s=Site01.Area01.Line02`]);
    const machines = await children(lines[1]!.nodeId);
    expect(machines.map((r) => r.browseName.name)).toEqual(['Machine01', 'Machine02', 'Machine03']);
    const tags = (await children(machines[2]!.nodeId)).map((r) => r.nodeId.toString());
    const prefix = `ns=${sim.namespaceIndex};s=Site01.Area01.Line02.Machine03`;
    for (const name of ['State', 'DownReason', 'TotalCount', 'GoodCount', 'IdealCycleTime', 'Temperature', 'Pressure', 'Speed', 'EnergyMeter', 'SpeedSetpoint', 'TemperatureSetpoint', 'Mode', 'Tag001', 'Tag002', 'TemperatureAlarm']) {
      expect(tags).toContain(`${prefix}.${name}`);
    }
  });

  it('streams every change with the grid time as source timestamp, exactly as the model computes it', async () => {
    const names = ['Temperature', 'Pressure', 'State', 'TotalCount', 'EnergyMeter', 'Tag001'].map((n) => `${M1}.${n}`);
    const rec = await recordValues(session, names.map((n) => sim.nodeId(n)));
    await new Promise((r) => setTimeout(r, 3500));
    await rec.stop();
    for (const name of names) {
      const got = rec.values.get(sim.nodeId(name))!.map((dv) => ({ time: dv.sourceTimestamp!.getTime(), value: dv.value.value as number | string }));
      expect(got.length, name).toBeGreaterThan(0);
      for (const s of got) expect(sim.valueAt(name, s.time), name).toEqual(s);
      // After the initial value, the stream holds exactly the recorded samples: nothing missing, nothing extra.
      const last = got[got.length - 1]!.time;
      expect(got.slice(1), name).toEqual(sim.samplesBetween(name, got[0]!.time + 1, last));
    }
    const temperature = rec.values.get(sim.nodeId(`${M1}.Temperature`))!;
    expect(temperature.length).toBeGreaterThanOrEqual(3);
    for (const dv of temperature.slice(1)) expect(dv.sourceTimestamp!.getTime() % 1000).toBe(0);
  });

  it('answers HistoryRead over six hours through continuation points with exactly samplesBetween', async () => {
    const to = Date.now() - 5000;
    const from = to - 6 * 3_600_000;
    for (const name of [`${M1}.Temperature`, `${M1}.TotalCount`, `${M1}.State`, `${M2}.Tag002`]) {
      const { samples, calls } = await readHistory(session, sim.nodeId(name), from, to, 4000);
      const expected = sim.samplesBetween(name, from, to);
      expect(samples.length, name).toBe(expected.length);
      expect(samples, name).toEqual(expected);
      if (expected.length > 4000) expect(calls, name).toBeGreaterThan(1);
    }
    // start > end reads backwards.
    const back = await readHistory(session, sim.nodeId(`${M1}.Speed`), to, to - 600_000, 250);
    expect(back.samples).toEqual(sim.samplesBetween(`${M1}.Speed`, to - 600_000, to).reverse());
    // History never runs ahead of the live values.
    const future = await readHistory(session, sim.nodeId(`${M1}.Temperature`), Date.now() + 60_000, Date.now() + 120_000, 100);
    expect(future.samples).toEqual([]);
  });

  it('accepts username login over SignAndEncrypt (Basic256Sha256) and Sign (Aes128_Sha256_RsaOaep), and audits a rejected password', async () => {
    for (const [securityMode, securityPolicy] of [['SignAndEncrypt', 'Basic256Sha256'], ['Sign', 'Aes128_Sha256_RsaOaep']] as const) {
      const secure = await connectClient({ endpointUrl: sim.endpointUrl, identity, securityMode, securityPolicy, user: engineer });
      try {
        const dv = await secure.session.read({ nodeId: sim.nodeId(`${M1}.Mode`), attributeId: AttributeIds.Value });
        expect(dv.value.value).toBe('Run');
      } finally {
        await secure.close();
      }
      const activation = sim.auditLog({ type: 'AuditActivateSessionEventType', user: 'engineer' }).find((e) => e.actor.securityMode === securityMode);
      expect(activation?.actor.securityPolicyUri).toBe(`http://opcfoundation.org/UA/SecurityPolicy#${securityPolicy}`);
      expect(activation?.actor.clientCertificateThumbprint).toMatch(/^[0-9a-f]{40}$/);
    }
    await expect(connectClient({ endpointUrl: sim.endpointUrl, identity, user: { username: 'operator', password: 'wrong' } })).rejects.toThrow();
    const rejected = sim.auditLog({ type: 'AuditActivateSessionEventType', user: 'operator' }).filter((e) => !e.status);
    expect(rejected).toHaveLength(1);
    expect(rejected[0]!.actor.clientAddress).toBe('127.0.0.1');
  });

  it('audits a setpoint write by a user with old and new value, as an OPC UA event and in auditLog()', async () => {
    const tag = `${M2}.TemperatureSetpoint`;
    expect(sim.auditLog({ type: 'AuditWriteUpdateEventType', tag })).toEqual([]);
    const before = sim.valueAt(tag, Date.now()).value as number;
    const ns = sim.namespaceIndex;
    const fields = ['EventType', 'SourceNode', 'SourceName', 'ClientUserId', 'OldValue', 'NewValue', 'Status', `${ns}:ClientAddress`, 'ClientApplicationUri', `${ns}:SessionId`, 'AttributeId'];
    const rec = await recordEvents(session, fields);
    const status = await session.write({ nodeId: sim.nodeId(tag), attributeId: AttributeIds.Value, value: { value: { dataType: DataType.Double, value: before + 5 } } });
    expect(status.name).toBe('Good');
    const event = await waitFor(() => rec.events.find((e) => e['SourceName'] === 'Attribute/Write' && String(e['SourceNode']) === sim.nodeId(tag)), { timeoutMs: 10_000, intervalMs: 50, what: 'write audit event' });
    await rec.stop();
    expect(event).toMatchObject({ ClientUserId: 'operator', OldValue: before, NewValue: before + 5, Status: true, [`${ns}:ClientAddress`]: '127.0.0.1', ClientApplicationUri: 'urn:weir:test:client', AttributeId: AttributeIds.Value });
    expect(String(event[`${ns}:SessionId`])).toMatch(/^ns=1;/);
    const [entry] = sim.auditLog({ type: 'AuditWriteUpdateEventType', tag });
    expect(entry).toMatchObject({ status: true, statusCode: 'Good', oldValue: before, newValue: before + 5, nodeId: sim.nodeId(tag), actor: { user: 'operator', tokenType: 'username', clientAddress: '127.0.0.1', clientApplicationUri: 'urn:weir:test:client' } });
    // The write is a sample: live value, valueAt and history agree on its time.
    const dv = await session.read({ nodeId: sim.nodeId(tag), attributeId: AttributeIds.Value });
    expect({ time: dv.sourceTimestamp!.getTime(), value: dv.value.value as number }).toEqual({ time: entry!.time, value: before + 5 });
    expect(sim.samplesBetween(tag, entry!.time - 60_000, Date.now())).toEqual([{ time: entry!.time, value: before + 5 }]);

    // An anonymous session may not write; the attempt is audited.
    const anonymous = await connectClient({ endpointUrl: sim.endpointUrl, identity });
    try {
      const denied = await anonymous.session.write({ nodeId: sim.nodeId(tag), attributeId: AttributeIds.Value, value: { value: { dataType: DataType.Double, value: 1 } } });
      expect(denied.name).toBe('BadUserAccessDenied');
    } finally {
      await anonymous.close();
    }
    expect(sim.auditLog({ type: 'AuditWriteUpdateEventType', tag }).map((e) => [e.actor.user, e.status, e.statusCode])).toEqual([
      ['operator', true, 'Good'],
      ['anonymous', false, 'BadUserAccessDenied'],
    ]);
    expect(sim.valueAt(tag, Date.now()).value).toBe(before + 5);
  });

  it('refuses writes of the wrong type, out of range, or to part of a value, and audits each refusal', async () => {
    const M3 = 'Site01.Area01.Line01.Machine03';
    const write = (tag: string, dataType: DataType, value: unknown, indexRange?: string): Promise<StatusCode> => {
      const nodeToWrite: WriteValueOptions = { nodeId: sim.nodeId(`${M3}.${tag}`), attributeId: AttributeIds.Value, value: { value: { dataType, value } } };
      if (indexRange) nodeToWrite.indexRange = new NumericRange(indexRange);
      return session.write(nodeToWrite);
    };
    expect((await write('Mode', DataType.String, 'Hack')).name).toBe('BadOutOfRange');
    expect((await write('TemperatureSetpoint', DataType.String, 'hot')).name).toBe('BadTypeMismatch');
    expect((await write('SpeedSetpoint', DataType.Double, 1e6)).name).toBe('BadOutOfRange');
    expect((await write('SpeedSetpoint', DataType.Double, 10, '0:1')).name).toBe('BadWriteNotSupported');
    expect((await write('Temperature', DataType.Double, 10)).name).toBe('BadNotWritable');
    const refused = sim.auditLog({ type: 'AuditWriteUpdateEventType' }).filter((e) => e.tag?.startsWith(M3));
    expect(refused.map((e) => [e.tag!.split('.').pop(), e.status, e.statusCode])).toEqual([
      ['Mode', false, 'BadOutOfRange'],
      ['TemperatureSetpoint', false, 'BadTypeMismatch'],
      ['SpeedSetpoint', false, 'BadOutOfRange'],
      ['SpeedSetpoint', false, 'BadWriteNotSupported'],
    ]);
    expect(sim.model.overrides().filter((o) => o.kind === 'value' && o.tag.startsWith(M3))).toEqual([]);
  });

  it('runs scenario writes through real sessions: an operator setpoint, Program mode, an unknown client', async () => {
    const speedM2 = sim.model.machine(M2).params.speedNominal + 7;
    const speed = await sim.runStep({ at: 0, action: 'setpoint', machine: M2, tag: 'SpeedSetpoint', value: speedM2, user: 'operator' });
    expect(speed).toMatchObject({ ok: true, statusCode: 'Good', value: speedM2 });
    const speedAudit = sim.auditLog({ type: 'AuditWriteUpdateEventType', tag: `${M2}.SpeedSetpoint` });
    expect(speedAudit).toHaveLength(1);
    expect(speedAudit[0]!.actor).toMatchObject({ user: 'operator', clientApplicationUri: SCENARIO_HMI_URI, securityMode: 'SignAndEncrypt' });

    const mode = await sim.runStep({ at: 0, action: 'mode', machine: M2, mode: 'Program', user: 'engineer' });
    expect(mode).toMatchObject({ ok: true, statusCode: 'Good' });
    const modeWrite = sim.auditLog({ type: 'AuditWriteUpdateEventType', tag: `${M2}.Mode` })[0]!;
    expect(modeWrite).toMatchObject({ oldValue: 'Run', newValue: 'Program', actor: { user: 'engineer' } });
    // From the next tick the machine idles with reason 106 (programming).
    const nextTick = Math.ceil(modeWrite.time / 1000) * 1000;
    await waitFor(() => (sim.stats().lastPublished >= nextTick ? true : undefined), { timeoutMs: 5000, intervalMs: 50, what: 'next tick' });
    const state = await session.read([{ nodeId: sim.nodeId(`${M2}.State`), attributeId: AttributeIds.Value }, { nodeId: sim.nodeId(`${M2}.DownReason`), attributeId: AttributeIds.Value }]);
    expect(state.map((d) => d.value.value)).toEqual(['idle', 106]);

    const rogue = await sim.runStep({ at: 0, action: 'unknownClientWrite', machine: M1, tag: 'SpeedSetpoint', value: sim.model.machine(M1).params.speedNominal * 1.5, user: 'operator' });
    expect(rogue).toMatchObject({ ok: true, statusCode: 'Good' });
    const rogueAudit = sim.auditLog({ type: 'AuditWriteUpdateEventType', tag: `${M1}.SpeedSetpoint` })[0]!;
    expect(rogueAudit.actor).toMatchObject({ user: 'operator', clientApplicationUri: 'urn:unknown:rogue-engineering-station', securityMode: 'None' });

    const anonymousRogue = await sim.runStep({ at: 0, action: 'unknownClientWrite', machine: M1, tag: 'Mode', value: 'Maintenance' });
    expect(anonymousRogue).toMatchObject({ ok: false, statusCode: 'BadUserAccessDenied' });
    expect(sim.valueAt(`${M1}.Mode`, Date.now()).value).toBe('Run');
  });

  it('raises and clears the temperature alarm when a scenario excursion crosses the limits', async () => {
    // Pick a machine whose temperature stays well below the High limit for the next minute without the excursion.
    const now = Date.now();
    const machine = sim.model.machines.find((m) => m.id !== M2 && sim.samplesBetween(`${m.id}.Temperature`, now, now + 60_000).every((s) => (s.value as number) < m.params.temperatureHigh - 3))!;
    expect(machine).toBeDefined();
    const fields = ['EventType', 'SourceName', 'ConditionName', 'ActiveState.Id', 'LimitState.CurrentState', 'Severity', 'Time'];
    const rec = await recordEvents(session, fields, sim.nodeId(machine.id));
    const current = sim.valueAt(`${machine.id}.Temperature`, Date.now()).value as number;
    const delta = machine.params.temperatureHighHigh - current + 12;
    const step = await sim.runStep({ at: 0, action: 'temperatureExcursion', machine: machine.id, delta, duration: '6s' });
    expect(step.ok).toBe(true);
    const raised = await waitFor(() => rec.events.find((e) => e['ConditionName'] === 'TemperatureAlarm' && e['ActiveState.Id'] === true), { timeoutMs: 15_000, intervalMs: 50, what: 'alarm raised' });
    expect(raised['SourceName']).toBe(machine.id);
    await waitFor(() => (rec.events.some((e) => e['ConditionName'] === 'TemperatureAlarm' && e['ActiveState.Id'] === false && rec.events.indexOf(e) > rec.events.indexOf(raised)) ? true : undefined), { timeoutMs: 15_000, intervalMs: 50, what: 'alarm cleared' });
    const limitStates = rec.events.filter((e) => e['ConditionName'] === 'TemperatureAlarm').map((e) => String((e['LimitState.CurrentState'] as { text?: string } | null)?.text ?? 'none'));
    expect(limitStates).toContain('HighHigh');
    await rec.stop();
  });

  it('counts value changes, sessions and monitored items in its metrics', async () => {
    const rec = await recordValues(session, [sim.nodeId(`${M1}.Temperature`), sim.nodeId(`${M1}.Pressure`)]);
    await waitFor(() => (sim.stats().monitoredItems >= 2 ? true : undefined), { timeoutMs: 5000, intervalMs: 50, what: 'monitored items' });
    const text = await sim.metrics.metrics();
    await rec.stop();
    const metric = (name: string): number => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1]);
    expect(metric('weir_plant_simulator_value_changes_total')).toBeGreaterThan(sim.model.tags.length);
    expect(metric('weir_plant_simulator_sessions')).toBeGreaterThanOrEqual(1);
    expect(metric('weir_plant_simulator_subscriptions')).toBeGreaterThanOrEqual(1);
    expect(metric('weir_plant_simulator_monitored_items')).toBeGreaterThanOrEqual(2);
    expect(metric('weir_plant_simulator_tags')).toBe(sim.model.tags.length);
  });
});

describe('a scripted scenario', () => {
  it('registers downtime at start and runs the timed operator write through a real session', async () => {
    const sim = await startTestSimulator({
      scenario: [
        { at: 0, action: 'downtime', machine: M1, duration: '3s', reason: 302 },
        { at: '1s', action: 'setpoint', machine: M2, tag: 'TemperatureSetpoint', value: 150, user: 'operator' },
      ],
    });
    try {
      const [downtime, write] = sim.scenarioResults();
      expect(downtime).toMatchObject({ done: true, ok: true, at: sim.startTick + 1000, override: { kind: 'state', state: 'down', reason: 302, from: sim.startTick + 1000, to: sim.startTick + 4000 } });
      // (The base schedule may already have the machine down, so the sample may be older than the override.)
      expect(sim.valueAt(`${M1}.State`, sim.startTick + 2000).value).toBe('down');
      expect(sim.valueAt(`${M1}.DownReason`, sim.startTick + 3999).value).toBe(302);
      expect(sim.valueAt(`${M1}.Speed`, sim.startTick + 3999).value).toBe(0);
      expect(write).toMatchObject({ done: false, at: sim.startTick + 2000 });
      const done = await waitFor(() => (sim.scenarioResults()[1]!.done ? sim.scenarioResults()[1] : undefined), { timeoutMs: 15_000, intervalMs: 50, what: 'scripted write' });
      expect(done).toMatchObject({ ok: true, statusCode: 'Good', value: 150 });
      const [entry] = sim.auditLog({ type: 'AuditWriteUpdateEventType' });
      expect(entry).toMatchObject({ tag: `${M2}.TemperatureSetpoint`, newValue: 150, actor: { user: 'operator', clientApplicationUri: SCENARIO_HMI_URI } });
      expect(entry!.time).toBeGreaterThanOrEqual(sim.startTick + 2000);
    } finally {
      await sim.stop();
    }
  });
});

describe('restart and certificate trust', () => {
  it('rejects an unknown client certificate by default, trusts it on request, and keeps certificate and trust across a restart on the same port', async () => {
    const stateDir = tempDir('restart');
    const { freePort } = await import('@weir/testing');
    const port = await freePort();
    const options = { port, stateDir, seed: 'restart', security: { users: USERS, policies: ['Basic256Sha256' as const], modes: ['SignAndEncrypt' as const] } };
    const identity: ClientIdentity = { applicationUri: 'urn:weir:test:restart-client', applicationName: 'restart-client', pkiDir: join(stateDir, 'client-pki') };
    const secure = { endpointUrl: `opc.tcp://127.0.0.1:${port}`, identity, securityMode: 'SignAndEncrypt' as const, securityPolicy: 'Basic256Sha256' as const, user: operator };

    const first = await startPlantSimulator(options);
    let firstCertificate: Buffer;
    const past = Date.now() - 3_600_000;
    let pastValue: unknown;
    try {
      firstCertificate = first.certificate;
      pastValue = first.valueAt(`${M1}.Temperature`, past);
      await expect(connectClient(secure)).rejects.toThrow();
      const prepared = await prepareClientIdentity(identity);
      await prepared.certificateManager.dispose();
      await first.trustCertificate(prepared.certificate);
      const c = await connectClient(secure);
      await c.close();
    } finally {
      await first.stop();
    }

    const second = await startPlantSimulator(options);
    try {
      expect(second.certificate.equals(firstCertificate)).toBe(true);
      const c = await connectClient(secure);
      try {
        const dv = await c.session.read({ nodeId: second.nodeId(`${M1}.State`), attributeId: AttributeIds.Value });
        expect(dv.statusCode.name).toBe('Good');
      } finally {
        await c.close();
      }
      expect(second.valueAt(`${M1}.Temperature`, past)).toEqual(pastValue);
    } finally {
      await second.stop();
    }
  });
});

afterAll(() => removeTempDirs());
