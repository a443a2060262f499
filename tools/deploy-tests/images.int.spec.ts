import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { canControlServers, createTestDatabase, freePort, waitFor } from '@weir/testing';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BUILDABLE, dockerAnswers, opsEnv, ROOT, runScript, SERVICES } from './services';

// The service images, built for real (docker build --network host) on a local
// Node 20 base made from Debian packages (deploy/images/build.sh node), and
// started: one plain, one against the test Kafka, one running the migrations
// against the test TimescaleDB. Only services with a src/main.ts can be built.

const TAG = 'ci';
const docker = canControlServers && dockerAnswers();
const containers: string[] = [];
let buildError: string | undefined;

function sh(cmd: string, args: readonly string[], timeoutMs = 120_000): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', cwd: ROOT, timeout: timeoutMs });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Starts an image on the host network with `env`; returns the container name. */
function start(image: string, env: Record<string, string>): string {
  const name = `weir-image-test-${randomBytes(4).toString('hex')}`;
  const r = sh('docker', ['run', '-d', '--name', name, '--network', 'host', ...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]), image]);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  containers.push(name);
  return name;
}

/** GET on loopback; the status, or undefined while nothing answers. */
async function httpStatus(url: string): Promise<number | undefined> {
  try {
    const res = await fetch(url);
    await res.text();
    return res.status;
  } catch {
    return undefined;
  }
}

const logsOf = (name: string) => {
  const r = sh('docker', ['logs', '--tail', '40', name]);
  return r.stdout + r.stderr;
};

describe.skipIf(!docker)('service images', () => {
  beforeAll(() => {
    const started = Date.now();
    if (runScript('deploy/images/build.sh', ['node']) === undefined) buildError = 'deploy/images/build.sh node failed (see stderr)';
    else if (runScript('deploy/images/build-services.sh', ['--node-image', 'weir/node:20', '--tag', TAG, ...BUILDABLE.map((s) => s.name)]) === undefined) buildError = 'deploy/images/build-services.sh failed (see stderr)';
    process.stdout.write(`service images (${BUILDABLE.map((s) => s.name).join(', ')}) built in ${Math.round((Date.now() - started) / 1000)} s; not built yet (no src/main.ts): ${SERVICES.filter((s) => !BUILDABLE.includes(s)).map((s) => s.name).join(', ') || 'none'}\n`);
  }, 60 * 60_000);

  afterAll(() => {
    for (const name of containers) sh('docker', ['rm', '-f', name]);
  });

  it('builds the local Node 20 base and an image of every service that has an entry point', () => {
    expect(buildError).toBeUndefined();
    const base = sh('docker', ['run', '--rm', '--network', 'host', 'weir/node:20', 'node', '--version']);
    expect(base.stdout).toMatch(/^v20\./);
    expect(BUILDABLE.length).toBeGreaterThan(0);
    for (const s of BUILDABLE) {
      const r = sh('docker', ['image', 'inspect', '--format', '{{json .Config}}', `weir/${s.name}:${TAG}`]);
      expect(r.status, `weir/${s.name}:${TAG}: ${r.stderr}`).toBe(0);
      const config = JSON.parse(r.stdout) as { User: string; Cmd: string[]; Env: string[]; WorkingDir: string };
      expect(config.User, s.name).toBe('1000:1000');
      expect(config.Cmd, s.name).toEqual(['node', `services/${s.name}/dist/main.js`]);
      expect(config.WorkingDir, s.name).toBe('/app');
      expect(config.Env, s.name).toContain(`${opsEnv(s, 'OPS_HOST')}=0.0.0.0`);
    }
  });

  it('ships production dependencies and compiled code only, with just the libs a service uses', () => {
    expect(buildError).toBeUndefined();
    const script = [
      'cd /app',
      'echo "libs: $(ls libs | tr "\\n" " ")"',
      'echo "services: $(ls services | tr "\\n" " ")"',
      'for p in kafkajs pg zod typescript vitest @swc/core; do if [ -e node_modules/$p ]; then echo "has $p"; fi; done',
      'echo "ts sources: $(find libs services -name "*.ts" ! -name "*.d.ts" | wc -l)"',
      'echo "migrations: $(ls libs/timescale/migrations 2>/dev/null | wc -l)"',
      'echo "uid: $(id -u)"',
    ].join('; ');
    const r = sh('docker', ['run', '--rm', '--network', 'host', `weir/timescale-sink:${TAG}`, 'sh', '-c', script]);
    expect(r.status, r.stderr).toBe(0);
    const out = r.stdout;
    expect(out).toContain('libs: config contracts kafka observability timescale ');
    expect(out).toContain('services: timescale-sink ');
    expect(out).toMatch(/has kafkajs\nhas pg\nhas zod\n/);
    expect(out).not.toMatch(/has (typescript|vitest|@swc\/core)/);
    expect(out).toContain('ts sources: 0');
    expect(out).toMatch(/migrations: [1-9]/);
    expect(out).toContain('uid: 1000');
  });

  it('starts the plant simulator image and its ops server answers /health/live and /metrics', async () => {
    expect(buildError).toBeUndefined();
    const [opcuaPort, opsPort] = [await freePort(), await freePort()];
    const name = start(`weir/plant-simulator:${TAG}`, { WEIR_OPCUA__PORT: String(opcuaPort), WEIR_OPCUA__HOST: '127.0.0.1', WEIR_OPS_HOST: '127.0.0.1', WEIR_OPS_PORT: String(opsPort), WEIR_PLANT__LINES_PER_AREA: '1', WEIR_PLANT__MACHINES_PER_LINE: '1' });
    const status = await waitFor(async () => ((await httpStatus(`http://127.0.0.1:${opsPort}/health/live`)) === 200 ? 200 : undefined), { timeoutMs: 120_000, what: `/health/live of ${name}` }).catch((err: unknown) => {
      throw new Error(`${String(err)}\n${logsOf(name)}`);
    });
    expect(status).toBe(200);
    const metrics = await fetch(`http://127.0.0.1:${opsPort}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toMatch(/^# HELP /m);
    expect(await httpStatus(`http://127.0.0.1:${opsPort}/health/ready`)).toBe(200);
  }, 180_000);

  it('starts the enricher image against the test Kafka and it becomes ready', async () => {
    expect(buildError).toBeUndefined();
    const opsPort = await freePort();
    const name = start(`weir/enricher:${TAG}`, {
      WEIR_KAFKA__BROKERS: inject('kafkaBrokers').join(','),
      WEIR_KAFKA__TOPIC_PREFIX: `img${randomBytes(3).toString('hex')}.`,
      WEIR_KAFKA__REPLICATION_FACTOR: '1',
      WEIR_KAFKA__PARTITIONS: '1',
      WEIR_OBSERVABILITY__OPS_HOST: '127.0.0.1',
      WEIR_OBSERVABILITY__OPS_PORT: String(opsPort),
    });
    const live = await waitFor(async () => ((await httpStatus(`http://127.0.0.1:${opsPort}/health/live`)) === 200 ? 200 : undefined), { timeoutMs: 120_000, what: `/health/live of ${name}` }).catch((err: unknown) => {
      throw new Error(`${String(err)}\n${logsOf(name)}`);
    });
    expect(live).toBe(200);
    const ready = await waitFor(async () => ((await httpStatus(`http://127.0.0.1:${opsPort}/health/ready`)) === 200 ? 200 : undefined), { timeoutMs: 120_000, what: `/health/ready of ${name}` }).catch((err: unknown) => {
      throw new Error(`${String(err)}\n${logsOf(name)}`);
    });
    expect(ready).toBe(200);
  }, 300_000);

  it('runs the migrations from the timescale-sink image against an empty database', async () => {
    expect(buildError).toBeUndefined();
    const db = await createTestDatabase(inject('databaseUrl'), 'weir_img');
    try {
      const r = sh('docker', ['run', '--rm', '--network', 'host', '-e', `WEIR_DATABASE__URL=${db.url}`, `weir/timescale-sink:${TAG}`, 'node', 'libs/timescale/dist/cli/migrate.js', 'up'], 300_000);
      expect(r.status, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toMatch(/applied [1-9]\d* migration\(s\)/);
      const client = new Client({ connectionString: db.url });
      await client.connect();
      try {
        const { rows } = await client.query<{ n: string }>('select count(*) as n from weir_schema_migrations');
        expect(Number(rows[0]?.n)).toBeGreaterThan(0);
        const tables = await client.query<{ t: string }>("select to_regclass('public.telemetry')::text as t");
        expect(tables.rows[0]?.t).toBe('telemetry');
      } finally {
        await client.end();
      }
    } finally {
      await db.drop();
    }
  }, 360_000);
});
