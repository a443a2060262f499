import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, writeFileSync, type WriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { demoErp } from './demo-erp';

/** The repository root (services are started from here). */
export const REPO_ROOT = resolve(__dirname, '..', '..');

/** Where the platform's pieces run and what the simulated plant looks like. */
export interface PlatformOptions {
  kafkaBrokers: string[];
  /** A TimescaleDB superuser or owner URL; migrations are applied by the sink at start. */
  databaseUrl: string;
  /** State, configuration and logs of every process go below it. */
  stateDir: string;
  topicPrefix?: string;
  /** `dist`: `node services/<s>/dist/main.js` (build first); `source`: through tsx. */
  runFrom?: 'dist' | 'source';
  /** The simulated plant. */
  plant?: {
    seed?: string;
    sitesPerEnterprise?: number;
    linesPerArea?: number;
    machinesPerLine?: number;
    extraTagsPerMachine?: number;
    opcuaPort?: number;
    scenarioFile?: string;
    /** User name -> password of the simulator's OPC UA users (the scenario's operators and engineers log in with them). */
    credentials?: Record<string, string>;
    /**
     * Start the simulator after the rest of the pipeline, right before the connector (default: first). A scenario's
     * steps are timed from the simulator's start, so they then begin with the platform up, however slow the start.
     */
    startLast?: boolean;
  };
  /** First of a block of loopback ports for the services' health/metrics servers (0: free ports). */
  opsPortBase?: number;
  /** Inbound ports of the IT-side receivers and the API (0 or absent: free ports). */
  ports?: { api?: number; syslog?: number; http?: number };
  logLevel?: string;
  /** Called with one line per lifecycle step. */
  log?: (line: string) => void;
}

/** One running process of the platform. */
export interface PlatformProcess {
  name: string;
  opsPort: number;
  child: ChildProcess;
  logFile: string;
  /** Resolves with the exit code or signal once the process ended. */
  exited: Promise<string>;
}

/** The running platform. */
export interface Platform {
  processes: PlatformProcess[];
  opcuaEndpoint: string;
  sourceId: string;
  erp: ReturnType<typeof demoErp>;
  /** The analytics API and the admin API key made for this run (only its SHA-256 is in the settings file). */
  api: { url: string; key: string };
  /** Where it-events listens: syslog over TCP and UDP, HTTP JSON. */
  itEvents: { syslogPort: number; httpUrl: string };
  /** The folder the historian connector watches for CSV/TSV exports. */
  historianDrop: string;
  /** Stops every process with SIGTERM (SIGKILL after `graceMs`), producers before consumers. */
  stop(graceMs?: number): Promise<void>;
}

/** The id the connector gives the simulated plant's samples. */
export const DEMO_SOURCE_ID = 'plant-simulator';
/** The id the historian connector gives samples from files dropped in `<stateDir>/historian-drop`. */
export const HISTORIAN_SOURCE_ID = 'historian-exports';
/** The simulator's node ids are `<site>.<area>.<line>.<machine>.<tag>`: the machine is the asset. */
const MACHINE_MAPPING = [{ kind: 'pattern', name: 'simulator-machines', target: 'nodeId', regex: 's=(Site\\d+\\.Area\\d+\\.Line\\d+\\.Machine\\d+)\\.[^.]+$', assetId: '$1' }];
/** The enterprise segment of every asset path. */
export const DEMO_ENTERPRISE = 'weir-demo';

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => res(port));
    });
  });
}

/** Services in start order: the plant and context first, then the pipeline from the far end back, the OT connector last. */
const ORDER = ['plant-simulator', 'erp-sync', 'timescale-sink', 'analytics-api', 'correlator', 'enricher', 'it-events', 'historian-connector', 'opcua-connector'] as const;
type ServiceName = (typeof ORDER)[number];

/**
 * Starts the simulated plant and the services that carry its data into
 * TimescaleDB, each as its own process with a generated settings file, and
 * waits until every one reports ready. Used by `npm run up` and by the
 * end-to-end test, so both run the same wiring.
 */
export async function startPlatform(options: PlatformOptions): Promise<Platform> {
  const log = options.log ?? (() => undefined);
  const runFrom = options.runFrom ?? 'dist';
  const prefix = options.topicPrefix ?? '';
  const plant = { seed: 'weir-demo', sitesPerEnterprise: 1, linesPerArea: 2, machinesPerLine: 3, extraTagsPerMachine: 0, opcuaPort: 4840, ...options.plant };
  const stateDir = resolve(options.stateDir);
  mkdirSync(join(stateDir, 'config'), { recursive: true });
  mkdirSync(join(stateDir, 'logs'), { recursive: true });
  const shape = { enterprise: 'Plant', sites: plant.sitesPerEnterprise, areasPerSite: 1, linesPerArea: plant.linesPerArea, machinesPerLine: plant.machinesPerLine, extraTagsPerMachine: plant.extraTagsPerMachine };
  const opcuaPort = plant.opcuaPort === 0 ? await freePort() : plant.opcuaPort;
  const opcuaEndpoint = `opc.tcp://127.0.0.1:${opcuaPort}`;
  const ports = new Map<ServiceName, number>();
  for (const [i, name] of ORDER.entries()) ports.set(name, options.opsPortBase ? options.opsPortBase + i : await freePort());

  const apiPort = options.ports?.api || (await freePort());
  const syslogPort = options.ports?.syslog || (await freePort());
  const httpPort = options.ports?.http || (await freePort());
  // A fresh admin key per run: the settings hold its SHA-256 only, the key is printed once.
  const apiKey = randomBytes(24).toString('base64url');

  // The ERP knows the plant from a week before now: late and replayed data still finds its context.
  const erp = demoErp({ seed: plant.seed, shape, enterprise: DEMO_ENTERPRISE, from: new Date(Date.now() - 7 * 86_400_000) });
  const dropDir = join(stateDir, 'erp-drop');
  mkdirSync(dropDir, { recursive: true });
  // erp-sync moves processed drops away; write them only on a first start so a restart does not replay them.
  if (!existsSync(join(stateDir, 'erp-sync', 'erp-sync.state.json'))) {
    writeFileSync(join(dropDir, 'assets-demo.json'), JSON.stringify(erp.assets, null, 1));
    writeFileSync(join(dropDir, 'production-orders-demo.json'), JSON.stringify(erp.productionOrders, null, 1));
    writeFileSync(join(dropDir, 'work-orders-demo.json'), JSON.stringify(erp.workOrders, null, 1));
  }

  // Historian exports (CSV/TSV, tall: tag, time, value, quality) dropped here are read into the platform.
  const historianDrop = join(stateDir, 'historian-drop');
  mkdirSync(historianDrop, { recursive: true });

  const kafka = { brokers: options.kafkaBrokers, topicPrefix: prefix };
  const logLevel = options.logLevel ?? 'info';
  const settings: Record<ServiceName, Record<string, unknown>> = {
    'plant-simulator': {
      logLevel,
      opsPort: ports.get('plant-simulator'),
      stateDir: join(stateDir, 'plant-simulator'),
      opcua: { port: opcuaPort, host: '127.0.0.1' },
      model: { seed: plant.seed },
      plant: { sites: shape.sites, areasPerSite: 1, linesPerArea: shape.linesPerArea, machinesPerLine: shape.machinesPerLine, extraTagsPerMachine: shape.extraTagsPerMachine },
      // The demo connector's certificate is new on every fresh state folder; a plant would trust it explicitly.
      security: { autoAcceptUnknownCertificates: true, ...(plant.credentials ? { credentials: plant.credentials } : {}) },
      ...(plant.scenarioFile ? { scenarioFile: plant.scenarioFile } : {}),
    },
    'erp-sync': {
      logLevel,
      opsPort: ports.get('erp-sync'),
      kafka: { ...kafka, clientId: 'erp-sync' },
      stateDir: join(stateDir, 'erp-sync'),
      enterprise: DEMO_ENTERPRISE,
      files: { dir: dropDir, timeZone: 'UTC' },
      shifts: {
        sites: erp.sites.map((siteId) => ({
          siteId,
          timeZone: 'UTC',
          shifts: [
            { name: 'early', start: '06:00', end: '14:00', breakMinutes: 30 },
            { name: 'late', start: '14:00', end: '22:00', breakMinutes: 30 },
            { name: 'night', start: '22:00', end: '06:00', breakMinutes: 30 },
          ],
        })),
      },
    },
    'timescale-sink': {
      kafka: { ...kafka, clientId: 'timescale-sink' },
      database: { url: options.databaseUrl },
      observability: { logLevel, opsHost: '127.0.0.1', opsPort: ports.get('timescale-sink') },
      sink: { rollups: { intervalMs: 5000, settleMs: 5000 } },
    },
    'analytics-api': {
      database: { url: options.databaseUrl },
      observability: { logLevel, opsHost: '127.0.0.1', opsPort: ports.get('analytics-api') },
      api: { host: '127.0.0.1', port: apiPort, auth: { apiKeys: { demo: { sha256: createHash('sha256').update(apiKey).digest('hex'), role: 'admin', sites: ['*'] } } } },
      // Retro-hunts map events to assets as the live correlator does.
      hunt: { assetMapping: MACHINE_MAPPING },
    },
    correlator: {
      kafka: { ...kafka, clientId: 'correlator' },
      observability: { logLevel, opsHost: '127.0.0.1', opsPort: ports.get('correlator') },
      correlator: { stateDir: join(stateDir, 'correlator'), assetMapping: MACHINE_MAPPING },
    },
    'it-events': {
      logLevel,
      opsPort: ports.get('it-events'),
      kafka: { ...kafka, clientId: 'it-events' },
      syslog: { host: '127.0.0.1', tcp: { port: syslogPort }, udp: { port: syslogPort } },
      http: { host: '127.0.0.1', port: httpPort },
    },
    enricher: {
      kafka: { ...kafka, clientId: 'enricher' },
      observability: { logLevel, opsHost: '127.0.0.1', opsPort: ports.get('enricher') },
      enricher: {
        mapping: MACHINE_MAPPING,
      },
    },
    'historian-connector': {
      logLevel,
      opsPort: ports.get('historian-connector'),
      kafka: { ...kafka, clientId: 'historian-connector' },
      stateDir: join(stateDir, 'historian-connector'),
      sources: [{ id: HISTORIAN_SOURCE_ID, type: 'csv', dir: historianDrop, layout: 'tall' }],
    },
    'opcua-connector': {
      logLevel,
      opsPort: ports.get('opcua-connector'),
      kafka: { ...kafka, clientId: 'opcua-connector' },
      stateDir: join(stateDir, 'opcua-connector'),
      // The demo simulator makes a new certificate on a fresh state folder; a plant pins its server's certificate instead.
      opcua: { acceptUnknownServerCertificates: true },
      sources: [
        {
          id: DEMO_SOURCE_ID,
          endpointUrl: opcuaEndpoint,
          securityMode: 'SignAndEncrypt',
          securityPolicy: 'Basic256Sha256',
          browse: [{ root: 'nsu=urn:weir:plant-simulator:plant;s=Plant', rebrowseInterval: 600_000 }],
          // The simulator puts who wrote from where in its own namespace; the correlator matches the client address with the VPN's.
          events: [{ notifier: 'i=2253', fields: ['urn:weir:plant-simulator:plant#ClientAddress'] }],
        },
      ],
    },
  };

  const processes: PlatformProcess[] = [];
  const stop = async (graceMs = 15_000): Promise<void> => {
    // Producers first, so what they read reaches Kafka while its consumers still run.
    for (const p of [...processes].reverse()) {
      if (p.child.exitCode !== null || p.child.signalCode !== null) continue;
      p.child.kill('SIGTERM');
      const killer = setTimeout(() => p.child.kill('SIGKILL'), graceMs);
      await p.exited;
      clearTimeout(killer);
    }
  };
  const order: readonly ServiceName[] = plant.startLast ? [...ORDER.filter((n) => n !== 'plant-simulator' && n !== 'opcua-connector'), 'plant-simulator', 'opcua-connector'] : ORDER;
  try {
    for (const name of order) {
      const configFile = join(stateDir, 'config', `${name}.json`);
      writeFileSync(configFile, JSON.stringify(settings[name], null, 2));
      const entry = runFrom === 'dist' ? [join(REPO_ROOT, 'services', name, 'dist', 'main.js')] : ['--import', 'tsx', join(REPO_ROOT, 'services', name, 'src', 'main.ts')];
      if (runFrom === 'dist' && !existsSync(entry[0]!)) throw new Error(`PLATFORM.NOT_BUILT: ${entry[0]} is missing; build first (npx nx run-many -t build)`);
      const logFile = join(stateDir, 'logs', `${name}.log`);
      const out: WriteStream = createWriteStream(logFile, { flags: 'a' });
      const child = spawn(process.execPath, entry, {
        cwd: REPO_ROOT,
        // A test runner's or tsx's loader hooks must not reach the services.
        env: { ...process.env, NODE_OPTIONS: '', WEIR_CONFIG_FILE: configFile },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout!.pipe(out, { end: false });
      child.stderr!.pipe(out, { end: false });
      const exited = new Promise<string>((res) =>
        child.on('exit', (code, signal) => {
          out.end();
          res(String(code ?? signal));
        }),
      );
      const proc: PlatformProcess = { name, opsPort: ports.get(name)!, child, logFile, exited };
      processes.push(proc);
      log(`started ${name} (pid ${child.pid}, health http://127.0.0.1:${proc.opsPort}/health/ready, log ${logFile})`);
      await waitReady(proc, name === 'plant-simulator' ? 120_000 : 180_000);
      log(`${name} is ready`);
    }
  } catch (err) {
    await stop(5000);
    throw err;
  }
  return { processes, opcuaEndpoint, sourceId: DEMO_SOURCE_ID, erp, api: { url: `http://127.0.0.1:${apiPort}`, key: apiKey }, itEvents: { syslogPort, httpUrl: `http://127.0.0.1:${httpPort}/v1/events` }, historianDrop, stop };
}

async function waitReady(p: PlatformProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  let ended: string | undefined;
  void p.exited.then((how) => (ended = how));
  while (Date.now() < deadline) {
    if (ended !== undefined) throw new Error(`PLATFORM.EXITED: ${p.name} exited (${ended}) before it was ready; see ${p.logFile}`);
    try {
      const res = await fetch(`http://127.0.0.1:${p.opsPort}/health/ready`, { signal: AbortSignal.timeout(2000) });
      if (res.status === 200) return;
      last = `${res.status} ${(await res.text()).slice(0, 500)}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`PLATFORM.NOT_READY: ${p.name} was not ready within ${timeoutMs} ms (last answer: ${last}); see ${p.logFile}`);
}
