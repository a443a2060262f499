import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { waitFor } from './fixtures';

const repoRoot = resolve(__dirname, '..', '..', '..');
const OUTPUT_KEEP = 256 * 1024;
const started = new Set<ServiceProcess>();

/** How a service process ended. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Options of `new ServiceProcess`. */
export interface ServiceProcessOptions {
  /** The service's entry point from the repository root, e.g. `services/enricher/src/main.ts`. */
  main: string;
  /** Its settings (`WEIR_…`) and anything else, on top of the test's environment without its `WEIR_` variables. */
  env?: NodeJS.ProcessEnv;
  /** The ops port its settings give it: what `get`, `waitUntil` and `metric` talk to. */
  opsPort?: number;
}

/**
 * A service run as its own process from its `main.ts`, as in production (`node --import tsx`,
 * so SIGTERM and SIGKILL reach the service itself, no wrapper in between). Keeps the last
 * 256 KiB of its stdout and stderr for assertions and error messages.
 */
export class ServiceProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<Exit>;
  readonly opsPort: number | undefined;
  private readonly name: string;
  private out = '';

  constructor(options: ServiceProcessOptions) {
    this.opsPort = options.opsPort;
    this.name = options.main.split('/')[1] ?? options.main;
    this.child = spawn(process.execPath, ['--import', 'tsx', options.main], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Only the settings given here reach it. NODE_OPTIONS cleared: a tsx parent would hand its
      // signal-relaying preflight down to the child.
      env: { ...inheritedEnv(), NODE_OPTIONS: '', ...options.env },
    });
    const append = (d: Buffer): void => {
      this.out += d.toString();
      if (this.out.length > 2 * OUTPUT_KEEP) this.out = this.out.slice(-OUTPUT_KEEP);
    };
    this.child.stdout?.on('data', append);
    this.child.stderr?.on('data', append);
    // 'close', not 'exit': by then its stdout and stderr are read to the end.
    this.exited = new Promise<Exit>((r) => this.child.once('close', (code, signal) => r({ code, signal })));
    started.add(this);
    void this.exited.then(() => started.delete(this));
  }

  /** Its stdout and stderr so far (the last 256 KiB at least). */
  get output(): string {
    return this.out;
  }

  /** Whether it has not exited yet. */
  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Throws, with its last output, if it has exited: a probe that waits on its work calls this first. */
  assertRunning(): void {
    if (!this.running) throw new Error(`${this.name} exited (${this.child.exitCode ?? this.child.signalCode}): ${this.out.slice(-2000)}`);
  }

  /** GET on its ops port. */
  async get(path: string): Promise<{ status: number; body: string }> {
    if (this.opsPort === undefined) throw new Error(`${this.name} was started without an ops port`);
    const res = await fetch(`http://127.0.0.1:${this.opsPort}${path}`);
    return { status: res.status, body: await res.text() };
  }

  /** Its `/health/live` or `/health/ready` report. */
  async health(check: 'live' | 'ready'): Promise<{ status: string; checks: Record<string, { ok: boolean; detail?: string }> }> {
    return JSON.parse((await this.get(`/health/${check}`)).body) as { status: string; checks: Record<string, { ok: boolean; detail?: string }> };
  }

  /** Waits until `/health/live` (or `/health/ready`) answers 200; fails at once, with its output, if it exits. */
  async waitUntil(check: 'live' | 'ready', timeoutMs = 120_000): Promise<void> {
    await waitFor(
      async () => {
        this.assertRunning();
        const r = await this.get(`/health/${check}`).catch(() => undefined);
        return r?.status === 200 ? true : undefined;
      },
      { timeoutMs, intervalMs: 100, what: `${this.name} (ops port ${this.opsPort}) to be ${check}` },
    );
  }

  /** A metric on its `/metrics` page summed over the label sets that have `labels`; 0 when absent or not answering. */
  async metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    const page = await this.get('/metrics').then(
      (r) => r.body,
      () => '',
    );
    return scrapeMetric(page, name, labels);
  }

  /** Sends a signal (SIGTERM unless told) if it still runs, and waits for the exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<Exit> {
    if (this.running) this.child.kill(signal);
    return this.exited;
  }
}

function inheritedEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('WEIR_')));
}

/** SIGKILLs every service process still running (an `afterAll` after a failed test). */
export async function killServiceProcesses(): Promise<void> {
  await Promise.all([...started].map((p) => p.stop('SIGKILL')));
}

/** A metric on a Prometheus text page summed over the label sets that have `labels`; 0 when absent. */
export function scrapeMetric(page: string, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  let sum = 0;
  for (const line of page.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    if (!wanted.every((w) => rest.includes(`{${w}`) || rest.includes(`,${w}`))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}
