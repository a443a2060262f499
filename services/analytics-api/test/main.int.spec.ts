import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { freePort, waitFor, type TestDatabase } from '@weir/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { scenarioDatabase } from './helpers';

const repoRoot = join(__dirname, '..', '..', '..');
const tsx = join(repoRoot, 'node_modules', '.bin', 'tsx');
const main = join(__dirname, '..', 'src', 'main.ts');

let db: TestDatabase;

beforeAll(async () => {
  db = await scenarioDatabase(inject('databaseUrl'));
});

afterAll(async () => {
  await db?.drop();
});

function start(env: Record<string, string>): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('WEIR_')));
  const child = spawn(tsx, [main], { cwd: repoRoot, env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

describe('main', () => {
  it('serves the API and health on separate ports, and stops cleanly on SIGTERM', async () => {
    const [apiPort, opsPort] = [await freePort(), await freePort()];
    const key = 'child-process-key';
    const proc = start({
      WEIR_DATABASE__URL: db.url,
      WEIR_API__PORT: String(apiPort),
      WEIR_OBSERVABILITY__OPS_PORT: String(opsPort),
      WEIR_API__AUTH__API_KEYS__CI__SHA256: createHash('sha256').update(key).digest('hex'),
      WEIR_API__AUTH__API_KEYS__CI__ROLE: 'viewer',
      WEIR_API__AUTH__API_KEYS__CI__SITES: 'hh,muc',
    });
    try {
      const ready = await waitFor(
        async () => {
          const res = await fetch(`http://127.0.0.1:${opsPort}/health/ready`).catch(() => undefined);
          return res?.status === 200 ? ((await res.json()) as { checks: Record<string, unknown> }) : undefined;
        },
        { timeoutMs: 60_000, what: `readiness of the child process; output so far:\n${proc.output()}` },
      );
      expect(Object.keys(ready.checks)).toEqual(['database']);
      const res = await fetch(`http://127.0.0.1:${apiPort}/v1/kpi/oee?from=2024-03-04T00:00:00Z&to=2024-03-05T00:00:00Z&by=site`, { headers: { 'X-API-Key': key } });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { rows: { key: string }[] }).rows.map((r) => r.key)).toEqual(['hh', 'muc']);
      expect((await fetch(`http://127.0.0.1:${apiPort}/health/ready`)).status).toBe(404); // health lives on the ops port only
      const metrics = await (await fetch(`http://127.0.0.1:${opsPort}/metrics`)).text();
      expect(metrics).toMatch(/weir_api_requests_total\{[^}]*route="\/v1\/kpi\/oee"[^}]*status="200"[^}]*\} 1/);
    } finally {
      proc.child.kill('SIGTERM');
    }
    expect(await proc.exited).toBe(0);
    expect(proc.output()).toContain('"step":"api","msg":"stopped"');
  });

  it('exits with 2 and names the setting when the configuration is bad', async () => {
    const proc = start({ WEIR_DATABASE__URL: db.url, WEIR_API__PORT: 'eighty', WEIR_API__AUTH__JWT_SECRET: 'short' });
    expect(await proc.exited).toBe(2);
    expect(proc.output()).toMatch(/api\.port/);
    expect(proc.output()).toMatch(/api\.auth\.jwtSecret/);
    expect(proc.output()).not.toContain('short');
  });
});
