import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPlantSimulator, type PlantSimulator } from '@weir/plant-simulator';
import { freePort } from '@weir/testing';
import { AttributeIds, coerceNodeId, DataType, type ClientSubscription } from 'node-opcua';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectReadOnly, createValueItems, discoverVariables, isOpcuaError, openClientPki, perCallLimit, readRawHistory, variantToJson, YAML_NODE_DEFAULTS, type ClientPki, type ReadOnlyConnection } from '../src/index';

const M1 = 'Site01.Area01.Line01.Machine01';

describe('@weir/opcua against the plant simulator', () => {
  let dir: string;
  let sim: PlantSimulator;
  let pki: ClientPki;
  let conn: ReadOnlyConnection;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'weir-opcua-lib-'));
    // Anonymous writes allowed: only the guard can stop one here. A small per-call limit exercises chunking.
    sim = await startPlantSimulator({ port: await freePort(), stateDir: join(dir, 'sim'), seed: 'lib-test', plant: { linesPerArea: 1, machinesPerLine: 2, extraTagsPerMachine: 3 }, limits: { maxMonitoredItemsPerCall: 7 }, security: { autoAcceptUnknownCertificates: true, anonymousCanWrite: true } });
    pki = await openClientPki({ pkiDir: join(dir, 'pki'), applicationUri: 'urn:weir:opcua-lib-test', applicationName: 'weir-opcua-lib-test', trustedServerCertificates: [sim.certificate] });
    conn = await connectReadOnly({ endpointUrl: sim.endpointUrl, securityMode: 'SignAndEncrypt', securityPolicy: 'Aes128_Sha256_RsaOaep', identity: { type: 'anonymous' }, pki, applicationUri: 'urn:weir:opcua-lib-test', applicationName: 'weir-opcua-lib-test' });
  });

  afterAll(async () => {
    await conn?.close();
    await pki?.dispose();
    await sim?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads the server limits and namespaces', () => {
    expect(conn.limits.maxMonitoredItemsPerCall).toBe(7);
    expect(conn.namespaces).toContain('urn:weir:plant-simulator:plant');
  });

  it('refuses a write on a server that would accept it; the audit log shows none', async () => {
    const before = conn.client.transactionsPerformed;
    let error: unknown;
    try {
      await conn.session.write({ nodeId: sim.nodeId(`${M1}.SpeedSetpoint`), attributeId: AttributeIds.Value, value: { value: { dataType: DataType.Double, value: 1 } } });
    } catch (err) {
      error = err;
    }
    expect(isOpcuaError(error, 'OPCUA.WRITE_REFUSED')).toBe(true);
    expect(conn.client.transactionsPerformed).toBe(before);
    expect(sim.auditLog({ type: 'AuditWriteUpdateEventType' })).toEqual([]);
  });

  it('creates monitored items in chunks within MaxMonitoredItemsPerCall; a bad node fails alone', async () => {
    const calls: number[] = [];
    const onRequest = (request: { schema?: { name?: string }; itemsToCreate?: unknown[] }): void => {
      if (request.schema?.name === 'CreateMonitoredItemsRequest') calls.push(request.itemsToCreate?.length ?? 0);
    };
    conn.client.on('send_request', onRequest as never);
    const sub: ClientSubscription = await conn.session.createSubscription2({ requestedPublishingInterval: 500, requestedMaxKeepAliveCount: 10, requestedLifetimeCount: 60, maxNotificationsPerPublish: 0, publishingEnabled: true, priority: 1 });
    const keys = [...sim.model.tags.map((t) => sim.nodeId(t.id)), `ns=${sim.namespaceIndex};s=NoSuchTag`, 'ns=7;i=1'];
    const chunks: number[] = [];
    const outcomes = await createValueItems(
      sub,
      keys.map((key) => ({ key, nodeId: coerceNodeId(key), node: { nodeId: key, ...YAML_NODE_DEFAULTS } })),
      // Ours would be 50; the server's limit of 7 wins.
      perCallLimit(50, conn.limits.maxMonitoredItemsPerCall),
      (o) => chunks.push(o.length),
    );
    conn.client.removeListener('send_request', onRequest as never);
    expect(outcomes.filter((o) => o.ok)).toHaveLength(sim.model.tags.length);
    expect(outcomes.filter((o) => !o.ok).map((o) => [o.key, o.status])).toEqual([
      [`ns=${sim.namespaceIndex};s=NoSuchTag`, 'BadNodeIdUnknown'],
      ['ns=7;i=1', 'BadNodeIdUnknown'],
    ]);
    expect(Math.max(...calls)).toBeLessThanOrEqual(7);
    expect(calls.reduce((a, b) => a + b, 0)).toBe(keys.length);
    expect(chunks).toEqual(calls);
    await sub.terminate();
  });

  it('discovers the variables of a subtree once each, without alarm internals or properties', async () => {
    const root = coerceNodeId(sim.nodeId('Plant'));
    const found = await discoverVariables(conn.session, { rootNodeId: `nsu=${sim.namespaceUri};s=Plant`, maxDepth: 10, includeProperties: false, rebrowseIntervalMs: 0, defaults: YAML_NODE_DEFAULTS }, root, { maxNodesPerBrowse: 3, namespaces: conn.namespaces });
    const expected = sim.model.tags.map((t) => `nsu=${sim.namespaceUri};s=${t.id}`);
    expect(found.map((f) => f.nodeId).sort()).toEqual(expected.sort());
    expect(found.find((f) => f.nodeId.endsWith(`${M1}.Temperature`))?.browsePath).toBe('Site01/Area01/Line01/Machine01/Temperature');
    const filtered = await discoverVariables(conn.session, { rootNodeId: sim.nodeId('Plant'), maxDepth: 10, include: '/Temperature$', includeProperties: false, rebrowseIntervalMs: 0, defaults: YAML_NODE_DEFAULTS }, root, { maxNodesPerBrowse: 100, namespaces: conn.namespaces });
    expect(filtered.map((f) => f.nodeId)).toEqual(sim.model.machines.map((m) => `ns=${sim.namespaceIndex};s=${m.id}.Temperature`));
  });

  it('reads raw history of many nodes, each from its own start, exactly as the simulator has it', async () => {
    const to = Date.now() - 2000;
    const ids = [`${M1}.Temperature`, `${M1}.State`, `${M1}.TotalCount`];
    const requests = ids.map((id, i) => ({ key: id, nodeId: coerceNodeId(sim.nodeId(id)), after: to - 600_000 + i * 60_000 }));
    const outcomes = await readRawHistory(conn.session, requests, to, { nodesPerCall: 2, valuesPerNode: 50 });
    for (const [i, o] of outcomes.entries()) {
      expect(o.ok).toBe(true);
      const expected = sim.samplesBetween(ids[i]!, requests[i]!.after + 1, to);
      expect(o.values.map((dv) => ({ time: dv.sourceTimestamp!.getTime(), value: dv.value.value as unknown }))).toEqual(expected);
    }
    const none = await readRawHistory(conn.session, [{ key: 'time', nodeId: coerceNodeId('i=2258'), after: to - 60_000 }], to, { nodesPerCall: 10, valuesPerNode: 10 });
    expect(none[0]).toMatchObject({ ok: false, status: expect.stringMatching(/^Bad/) });
  });

  it('converts structures and arrays the server returns to JSON', async () => {
    const [status, namespaces] = await conn.session.read([
      { nodeId: 'i=2256', attributeId: AttributeIds.Value },
      { nodeId: 'i=2255', attributeId: AttributeIds.Value },
    ]);
    const s = variantToJson(status!.value);
    expect(s.dataType).toBe('ExtensionObject');
    expect(s.value).toMatchObject({ State: 0, BuildInfo: { ProductName: 'Weir plant simulator', ManufacturerName: 'Weir' } });
    expect(variantToJson(namespaces!.value)).toEqual({ value: conn.namespaces, dataType: 'String' });
  });
});
