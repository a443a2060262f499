import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The repository root. */
export const ROOT = resolve(__dirname, '../..');

/** One inbound port of a service besides its ops port. */
export interface ServicePort {
  name: string;
  port: number;
  protocol: 'TCP' | 'UDP';
}

/** One entry of deploy/services.json. */
export interface ServiceEntry {
  name: string;
  side: 'ot' | 'it' | 'lab';
  ops: 'top' | 'observability';
  kafka: boolean;
  database: boolean;
  consumer: boolean;
  /** One instance per consumer group (its state is not partitioned): one replica, never autoscaled. */
  singleton?: boolean;
  state: boolean;
  ports: ServicePort[];
  env: Record<string, string>;
}

/** Every service of deploy/services.json, the one list images, compose and the chart follow. */
export const SERVICES: readonly ServiceEntry[] = (JSON.parse(readFileSync(join(ROOT, 'deploy/services.json'), 'utf8')) as { services: ServiceEntry[] }).services;

/** Services whose entry point exists today (only those can be built and started). */
export const BUILDABLE: readonly ServiceEntry[] = SERVICES.filter((s) => existsSync(join(ROOT, 'services', s.name, 'src/main.ts')));

/** Folders under services/. */
export const SERVICE_FOLDERS: readonly string[] = readdirSync(join(ROOT, 'services'), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

/** The environment variable of a service's ops setting `key` (OPS_HOST, OPS_PORT, LOG_LEVEL). */
export function opsEnv(service: Pick<ServiceEntry, 'ops'>, key: 'OPS_HOST' | 'OPS_PORT' | 'LOG_LEVEL'): string {
  return service.ops === 'observability' ? `WEIR_OBSERVABILITY__${key}` : `WEIR_${key}`;
}

/** Runs a repository script; its stdout (trimmed), or undefined with the reason written to stderr when it fails. */
export function runScript(script: string, args: readonly string[] = [], timeoutMs = 45 * 60_000): string | undefined {
  const r = spawnSync('bash', [join(ROOT, script), ...args], { cwd: ROOT, encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) {
    process.stderr.write(`${script} ${args.join(' ')} failed (${r.status ?? r.signal}):\n${r.stderr}\n`);
    return undefined;
  }
  return r.stdout.trim();
}

/** Whether a Docker engine answers. */
export function dockerAnswers(): boolean {
  try {
    execFileSync('docker', ['info', '--format', '{{.ServerVersion}}'], { stdio: 'ignore', timeout: 30_000 });
    return true;
  } catch {
    return false;
  }
}
