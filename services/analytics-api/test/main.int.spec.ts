import { createHash } from 'node:crypto';
import { type Exit, freePort, ServiceProcess, type TestDatabase } from '@weir/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { scenarioDatabase } from './helpers';

let db: TestDatabase;

beforeAll(async () => {
  db = await scenarioDatabase(inject('databaseUrl'));
});

afterAll(async () => {
  await db?.drop();
});

describe('main', () => {
  it('serves the API and health on separate ports, and stops cleanly on SIGTERM', async () => {
    const [apiPort, opsPort] = [await freePort(), await freePort()];
    const key = 'child-process-key';
    const proc = new ServiceProcess({
      main: 'services/analytics-api/src/main.ts',
      opsPort,
      env: {
        WEIR_DATABASE__URL: db.url,
        WEIR_API__PORT: String(apiPort),
        WEIR_OBSERVABILITY__OPS_PORT: String(opsPort),
        WEIR_API__AUTH__API_KEYS__CI__SHA256: createHash('sha256').update(key).digest('hex'),
        WEIR_API__AUTH__API_KEYS__CI__ROLE: 'viewer',
        WEIR_API__AUTH__API_KEYS__CI__SITES: 'hh,muc',
      },
    });
    let exit: Promise<Exit> | undefined;
    try {
      await proc.waitUntil('ready', 60_000);
      const ready = await proc.health('ready');
      expect(Object.keys(ready.checks)).toEqual(['database']);
      const res = await fetch(`http://127.0.0.1:${apiPort}/v1/kpi/oee?from=2024-03-04T00:00:00Z&to=2024-03-05T00:00:00Z&by=site`, { headers: { 'X-API-Key': key } });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { rows: { key: string }[] }).rows.map((r) => r.key)).toEqual(['hh', 'muc']);
      expect((await fetch(`http://127.0.0.1:${apiPort}/health/ready`)).status).toBe(404); // health lives on the ops port only
      const metrics = (await proc.get('/metrics')).body;
      expect(metrics).toMatch(/weir_api_requests_total\{[^}]*route="\/v1\/kpi\/oee"[^}]*status="200"[^}]*\} 1/);
    } finally {
      exit = proc.stop('SIGTERM');
    }
    expect(await exit, proc.output.slice(-2000)).toEqual({ code: 0, signal: null });
    expect(proc.output).toContain('"step":"api","msg":"stopped"');
  });

  it('exits with 2 and names the setting when the configuration is bad', async () => {
    const proc = new ServiceProcess({ main: 'services/analytics-api/src/main.ts', env: { WEIR_DATABASE__URL: db.url, WEIR_API__PORT: 'eighty', WEIR_API__AUTH__JWT_SECRET: 'short' } });
    expect((await proc.exited).code).toBe(2);
    expect(proc.output).toMatch(/api\.port/);
    expect(proc.output).toMatch(/api\.auth\.jwtSecret/);
    expect(proc.output).not.toContain('short');
  });
});
