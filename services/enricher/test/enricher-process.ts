import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, waitFor } from '@weir/testing';
import { SCENARIO_RULES, testGroupId } from './helpers';

const repoRoot = resolve(__dirname, '..', '..', '..');
const tempDirs: string[] = [];

/** Removes the config folders the processes of this file used. */
export function removeTempDirs(): void {
  for (const d of tempDirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** How an enricher process ended. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Options of one enricher process. */
export interface EnricherProcessOptions {
  brokers: string[];
  prefix: string;
  /** `enricher.instanceId`; keep it across restarts of the same instance. */
  instanceId: string;
  /** `enricher.groupId`; default `testGroupId(prefix)`. */
  groupId?: string;
  /** Extra environment (wins over the defaults below). */
  env?: Record<string, string>;
}

/**
 * The enricher as its own process, started from src/main.ts like in production: the mapping rules
 * come from a YAML file (`WEIR_CONFIG_FILE`), everything else from the environment. SIGKILL and
 * SIGTERM reach the service itself (no wrapper process in between).
 */
export class EnricherProcess {
  /** The last 256 KiB of stdout and stderr (pino JSON lines). */
  output = '';
  readonly exited: Promise<Exit>;

  private constructor(
    readonly child: ChildProcess,
    readonly opsPort: number,
  ) {
    const append = (d: Buffer): void => {
      this.output += d.toString();
      if (this.output.length > 512 * 1024) this.output = this.output.slice(-256 * 1024);
    };
    child.stdout?.on('data', append);
    child.stderr?.on('data', append);
    this.exited = new Promise<Exit>((r) => child.once('exit', (code, signal) => r({ code, signal })));
  }

  /** Starts a process; resolves once it is spawned (not once it is ready). */
  static async start(options: EnricherProcessOptions): Promise<EnricherProcess> {
    const dir = mkdtempSync(join(tmpdir(), 'weir-enricher-'));
    tempDirs.push(dir);
    const configFile = join(dir, 'enricher.yaml');
    writeFileSync(configFile, ['enricher:', '  mapping:', ...SCENARIO_RULES.map((r) => `    - ${JSON.stringify(r)}`)].join('\n') + '\n');
    const opsPort = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', 'services/enricher/src/main.ts'], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        // A tsx parent would hand its signal-relaying preflight down to the child.
        NODE_OPTIONS: '',
        WEIR_CONFIG_FILE: configFile,
        WEIR_KAFKA__BROKERS: options.brokers.join(','),
        WEIR_KAFKA__TOPIC_PREFIX: options.prefix,
        WEIR_KAFKA__CLIENT_ID: `enricher-${options.instanceId}`,
        WEIR_KAFKA__PARTITIONS: '3',
        WEIR_KAFKA__REPLICATION_FACTOR: '1',
        WEIR_OBSERVABILITY__OPS_PORT: String(opsPort),
        WEIR_OBSERVABILITY__LOG_LEVEL: process.env['WEIR_TEST_LOG_LEVEL'] ?? 'info',
        WEIR_ENRICHER__INSTANCE_ID: options.instanceId,
        WEIR_ENRICHER__GROUP_ID: options.groupId ?? testGroupId(options.prefix),
        // The broker's minimum: a killed instance's partitions move on after 6 s, not 30.
        WEIR_ENRICHER__SESSION_TIMEOUT_MS: '6000',
        WEIR_ENRICHER__HEARTBEAT_INTERVAL_MS: '1000',
        ...options.env,
      },
    });
    return new EnricherProcess(child, opsPort);
  }

  /** GET on the ops port. */
  async get(path: string): Promise<{ status: number; body: string }> {
    const res = await fetch(`http://127.0.0.1:${this.opsPort}${path}`);
    return { status: res.status, body: await res.text() };
  }

  /** Throws (with the process's last output) if it has exited: a probe that waits on its work calls this first. */
  assertRunning(): void {
    if (this.child.exitCode !== null || this.child.signalCode !== null) throw new Error(`enricher exited (${this.child.exitCode ?? this.child.signalCode}): ${this.output.slice(-2000)}`);
  }

  /** Waits until /health/ready answers 200 (context loaded, in the group); fails early if the process exits. */
  async ready(timeoutMs = 120_000): Promise<void> {
    await waitFor(
      async () => {
        this.assertRunning();
        const r = await this.get('/health/ready').catch(() => undefined);
        return r?.status === 200 ? true : undefined;
      },
      { timeoutMs, intervalMs: 100, what: `enricher ${this.opsPort} ready` },
    );
  }

  /** Partitions of the input this instance holds, from its readiness report. */
  async assignedPartitions(): Promise<number> {
    const r = await this.get('/health/ready');
    const report = JSON.parse(r.body) as { checks: Record<string, { ok: boolean; detail?: string }> };
    return Number(/^(\d+) partition/.exec(report.checks['telemetry']?.detail ?? '')?.[1] ?? 0);
  }

  /** Value of one sample of a counter or gauge on /metrics (0 when absent). */
  async metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    const { body } = await this.get('/metrics');
    let sum = 0;
    for (const line of body.split('\n')) {
      if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
      if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
    return sum;
  }

  /** Sends a signal and waits for the exit. */
  async stop(signal: NodeJS.Signals): Promise<Exit> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }
}
