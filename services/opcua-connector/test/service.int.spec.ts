import { readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PlantSimulator } from '@weir/plant-simulator';
import { type Exit, freePort, removeTempDirs, ServiceProcess, tempDir, uniqueTopicPrefix, waitFor } from '@weir/testing';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { collect, startSim, type Collected } from './helpers';

const M1 = 'Site01.Area01.Line01.Machine01';

/** The TCP sockets a process listens on, as `address:port`, from /proc (its socket fds matched against the LISTEN table). */
function listeningSockets(pid: number): string[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // The fd closed between listing and reading it.
    }
  }
  const out: string[] = [];
  for (const table of ['tcp', 'tcp6']) {
    for (const line of readFileSync(`/proc/${pid}/net/${table}`, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      // st 0A = LISTEN; cols[9] is the inode.
      if (cols.length < 10 || cols[3] !== '0A' || !inodes.has(cols[9]!)) continue;
      const [hexAddr, hexPort] = cols[1]!.split(':') as [string, string];
      const addr = table === 'tcp' ? (hexAddr.match(/../g) ?? []).reverse().map((h) => parseInt(h, 16)).join('.') : hexAddr;
      out.push(`${addr}:${parseInt(hexPort, 16)}`);
    }
  }
  return out;
}

// The service as deployed: `src/main.ts` in its own process, settings from a YAML file plus environment.
describe('the opcua-connector service', () => {
  const brokers = inject('kafkaBrokers');
  let sim: PlantSimulator;
  let reader: Collected | undefined;

  beforeAll(async () => {
    sim = await startSim({ plant: { linesPerArea: 1, machinesPerLine: 1 }, alarms: { enabled: false } });
  });

  afterAll(async () => {
    await reader?.stop();
    await sim?.stop();
    removeTempDirs();
  });

  it('starts from a YAML file and the environment, listens only on its loopback ops port, serves /health and /metrics, delivers samples (structures and arrays as JSON) and stops on SIGTERM', async () => {
    const dir = tempDir('service');
    const prefix = uniqueTopicPrefix('svc');
    const opsPort = await freePort();
    const certFile = join(dir, 'server.der');
    writeFileSync(certFile, sim.certificate);
    const nodes = [sim.nodeId(`${M1}.Temperature`), sim.nodeId(`${M1}.State`), 'i=2256', 'i=2255'];
    const configFile = join(dir, 'opcua-connector.yaml');
    writeFileSync(
      configFile,
      stringify({
        kafka: { clientId: 'opcua-connector-service-test', partitions: 1, replicationFactor: 1 },
        opcua: { trustedServerCertificates: [certFile] },
        sources: [{ id: 'plant', endpointUrl: sim.endpointUrl, securityMode: 'None', securityPolicy: 'None', defaults: { publishingInterval: '500ms' }, nodes }],
      }),
    );
    const child = new ServiceProcess({
      main: 'services/opcua-connector/src/main.ts',
      opsPort,
      env: {
        WEIR_CONFIG_FILE: configFile,
        WEIR_KAFKA__BROKERS: brokers.join(','),
        WEIR_KAFKA__TOPIC_PREFIX: prefix,
        WEIR_STATE_DIR: join(dir, 'state'),
        WEIR_OPS_PORT: String(opsPort),
        WEIR_LOG_LEVEL: 'info',
      },
    });
    const ops = `http://127.0.0.1:${opsPort}`;
    let exit: Promise<Exit> | undefined;
    try {
      await child.waitUntil('ready', 120_000);
      const ready = await child.health('ready');
      expect(ready.checks['opcua:plant']).toEqual({ ok: true, detail: '4 items monitored' });
      expect(Object.keys(ready.checks).sort()).toEqual(['kafka-topics', 'opcua:plant', 'spool-opcua', 'spool-opcua-log']);
      expect((await fetch(`${ops}/health/live`)).status).toBe(200);
      // The ops port takes no input.
      expect((await fetch(`${ops}/metrics`, { method: 'POST', body: 'x' })).status).toBe(405);

      reader = await collect(brokers, prefix);
      const status = await waitFor(() => reader!.samples.find((s) => s.nodeId === 'i=2256'), { timeoutMs: 30_000, what: 'a ServerStatus sample' });
      expect(status).toMatchObject({ sourceId: 'plant', dataType: 'ExtensionObject', status: 0, value: { State: 0, BuildInfo: { ProductName: 'Weir plant simulator' } } });
      const namespaces = await waitFor(() => reader!.samples.find((s) => s.nodeId === 'i=2255'), { timeoutMs: 30_000, what: 'a NamespaceArray sample' });
      expect(namespaces.dataType).toBe('String');
      expect(namespaces.value).toEqual(expect.arrayContaining(['http://opcfoundation.org/UA/', 'urn:weir:plant-simulator:plant']));
      const temperature = await waitFor(() => reader!.samples.find((s) => s.nodeId === nodes[0]), { timeoutMs: 30_000, what: 'a Temperature sample' });
      expect(temperature.value).toBe(sim.valueAt(`${M1}.Temperature`, Date.parse(temperature.sourceTime)).value);
      const connected = await waitFor(() => reader!.events.find((e) => e.type === 'connector.connected'), { timeoutMs: 30_000, what: 'the connection event' });
      expect(connected).toMatchObject({ sourceId: 'plant', kind: 'connection' });

      const metrics = (await child.get('/metrics')).body;
      expect(metrics).toMatch(/^weir_opcua_monitored_items\{source="plant",state="ok",service="opcua-connector"\} 4$/m);
      expect(metrics).toMatch(/^weir_opcua_connected\{source="plant",service="opcua-connector"\} 1$/m);
      expect(Number(/^weir_opcua_notifications_total\{source="plant",service="opcua-connector"\} (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThan(0);
      expect(metrics).toMatch(/^weir_opcua_spool_bytes\{service="opcua-connector"\} \d+/m);

      // Unidirectional: the only listening socket is the ops port on loopback (OPC UA and Kafka are outbound).
      expect(listeningSockets(child.child.pid!)).toEqual([`127.0.0.1:${opsPort}`]);
    } finally {
      exit = child.stop('SIGTERM');
    }
    expect(await exit, child.output.slice(-2000)).toEqual({ code: 0, signal: null });
    expect(child.output).toContain('shutting down');
  });

  it('refuses bad settings with exit code 2, naming each bad key and where it came from, before opening anything', async () => {
    const child = new ServiceProcess({
      main: 'services/opcua-connector/src/main.ts',
      env: { WEIR_CONFIG_FILE: '', WEIR_KAFKA__BROKERS: brokers.join(','), WEIR_OPS_PORT: 'eighty', WEIR_SPOOL__MAX_BYTES: '10' },
    });
    const { code } = await child.exited;
    const output = child.output;
    expect(code, output).toBe(2);
    expect(output).toMatch(/opsPort \(from env WEIR_OPS_PORT\)/);
    expect(output).toMatch(/spool\.maxBytes \(from env WEIR_SPOOL__MAX_BYTES\)/);
    // The problems only, no stack trace.
    expect(output).not.toMatch(/\n\s+at /);
  });
});
