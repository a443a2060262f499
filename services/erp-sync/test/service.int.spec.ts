import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Exit, freePort, removeTempDirs, ServiceProcess, tempDir, uniqueTopicPrefix } from '@weir/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { FakeSap } from './fake-sap-server';
import { latestByKey, readTopic, testKafka } from './helpers';
import { maintenanceOrder } from './sap-fixtures';

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
    const child = new ServiceProcess({
      main: 'services/erp-sync/src/main.ts',
      opsPort,
      env: {
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
    });
    const k = await testKafka();
    let exit: Promise<Exit> | undefined;
    try {
      // Ready once every feed has had a successful poll; the first runs right at start.
      await child.waitUntil('ready', 180_000);
      const ready = await child.health('ready');
      expect(Object.keys(ready.checks).sort()).toEqual(['erp-feed:sap:API_MAINTENANCEORDER/MaintenanceOrder', 'erp-feed:shifts']);
      const metrics = (await child.get('/metrics')).body;
      expect(metrics).toMatch(/^weir_erp_sync_records_published_total\{feed="sap:API_MAINTENANCEORDER\/MaintenanceOrder",entity="workOrders",op="upsert",service="erp-sync"\} 1$/m);
      expect(metrics).toMatch(/^weir_erp_sync_last_success_timestamp_seconds\{feed="shifts",service="erp-sync"\} \d+/m);
      expect(latestByKey(await readTopic(k.kafka, k.admin, `${prefix}erp.work-orders.v1`)).get('4000001')).toMatchObject({ assetId: '10000045' });
      expect(child.output).toContain('"auth":"[redacted]"');
      expect(child.output).not.toContain('pw-Secret-42');
    } finally {
      exit = child.stop('SIGTERM');
      await k.close();
      await sap.close();
    }
    expect(await exit, child.output.slice(-2000)).toEqual({ code: 0, signal: null });
    expect(child.output).toContain('producer closed');
  });
});
