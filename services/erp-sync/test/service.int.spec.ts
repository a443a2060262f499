import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { freePort, removeTempDirs, tempDir, uniqueTopicPrefix, waitFor } from '@weir/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { FakeSap } from './fake-sap-server';
import { latestByKey, readTopic, testKafka } from './helpers';
import { maintenanceOrder } from './sap-fixtures';

const root = resolve(__dirname, '../../..');

describe('the erp-sync service', () => {
  afterAll(() => removeTempDirs());

  it('starts from environment and a YAML file, syncs, serves /health and /metrics, keeps secrets out of its logs and stops on SIGTERM', async () => {
    const sap = new FakeSap({ auth: { type: 'basic', username: 'WEIR_COMM', password: 'pw-Secret-42' }, pageSize: 10 });
    await sap.start();
    sap.put('API_MAINTENANCEORDER', 'MaintenanceOrder', '4000001', maintenanceOrder('4000001', '10000045', Date.UTC(2026, 10, 25, 8)), Date.UTC(2026, 10, 25, 8));
    const prefix = uniqueTopicPrefix('erp-svc');
    const opsPort = await freePort();
    const configFile = join(tempDir('config'), 'erp-sync.yaml');
    writeFileSync(
      configFile,
      [
        'sap:',
        '  pollInterval: 1h',
        '  functionalLocations: { enabled: false }',
        '  equipment: { enabled: false }',
        '  productionOrders: { enabled: false }',
        'shifts:',
        '  sites:',
        '    - siteId: hamburg',
        '      timeZone: Europe/Berlin',
        '      shifts:',
        '        - { name: early, start: "06:00", end: "14:00", breakMinutes: 30, days: [mon, tue, wed, thu, fri] }',
      ].join('\n'),
    );
    const child = spawn(process.execPath, ['--import', 'tsx', 'services/erp-sync/src/main.ts'], {
      cwd: root,
      // NODE_OPTIONS cleared: a tsx parent would pass its signal-relaying preflight down to the child.
      env: {
        ...process.env,
        NODE_OPTIONS: '',
        WEIR_CONFIG_FILE: configFile,
        WEIR_KAFKA__BROKERS: inject('kafkaBrokers').join(','),
        WEIR_KAFKA__TOPIC_PREFIX: prefix,
        WEIR_STATE_DIR: tempDir('state'),
        WEIR_OPS_PORT: String(opsPort),
        WEIR_LOG_LEVEL: 'info',
        WEIR_SAP__BASE_URL: sap.baseUrl,
        WEIR_SAP__AUTH__TYPE: 'basic',
        WEIR_SAP__AUTH__USERNAME: 'WEIR_COMM',
        WEIR_SAP__AUTH__PASSWORD: 'pw-Secret-42',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<string>((r) => child.on('exit', (code, signal) => r(`${code ?? signal}`)));
    const k = await testKafka();
    try {
      await waitFor(() => (output.includes('health and metrics listening') ? true : undefined), { timeoutMs: 180_000, what: `service start (output so far: ${output.slice(-1000)})` });
      // Ready once every feed has had a successful poll; the first runs right at start.
      await waitFor(async () => ((await fetch(`http://127.0.0.1:${opsPort}/health/ready`)).status === 200 ? true : undefined), { timeoutMs: 30_000, what: 'readiness' });
      const ready = (await (await fetch(`http://127.0.0.1:${opsPort}/health/ready`)).json()) as { checks: Record<string, { ok: boolean }> };
      expect(Object.keys(ready.checks).sort()).toEqual(['erp-feed:sap:API_MAINTENANCEORDER/MaintenanceOrder', 'erp-feed:shifts']);
      const metrics = await (await fetch(`http://127.0.0.1:${opsPort}/metrics`)).text();
      expect(metrics).toMatch(/^weir_erp_sync_records_published_total\{feed="sap:API_MAINTENANCEORDER\/MaintenanceOrder",entity="workOrders",op="upsert",service="erp-sync"\} 1$/m);
      expect(metrics).toMatch(/^weir_erp_sync_last_success_timestamp_seconds\{feed="shifts",service="erp-sync"\} \d+/m);
      expect(latestByKey(await readTopic(k.kafka, k.admin, `${prefix}erp.work-orders.v1`)).get('4000001')).toMatchObject({ assetId: '10000045' });
      expect(output).toContain('"auth":"[redacted]"');
      expect(output).not.toContain('pw-Secret-42');
    } finally {
      child.kill('SIGTERM');
      await k.close();
      await sap.close();
    }
    const how = await exited;
    expect(how, output.slice(-2000)).toBe('0');
    expect(output).toContain('producer closed');
  });
});
