import { metricValue, removeTempDirs, tempDir, uniqueTopicPrefix } from '@weir/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeSap, odataErrorBody } from './fake-sap-server';
import { appended, latestByKey, readTopic, startService, testKafka, type TestService } from './helpers';
import { equipment, functionalLocation, maintenanceOrder, productionOrder } from './sap-fixtures';

const FL = ['API_FUNCTIONALLOCATION', 'FunctionalLocation'] as const;
const EQ = ['API_EQUIPMENT', 'Equipment'] as const;
const MO = ['API_MAINTENANCEORDER', 'MaintenanceOrder'] as const;
const PO = ['API_PRODUCTION_ORDER_2_SRV', 'A_ProductionOrder_2'] as const;
const minute = (n: number): number => Date.UTC(2026, 10, 25, 8, 0) + n * 60_000;

/**
 * Acceptance: paging, delta polling and deletions reach the compacted topics;
 * an OData error is logged with its code and message and retried; a restart
 * resumes from the checkpoint. Against the shared Kafka and a fake SAP Gateway
 * on 127.0.0.1 with basic authentication, sap-client 100 and pages of 2.
 */
describe('erp-sync against SAP OData v2 (basic auth)', () => {
  const sap = new FakeSap({ auth: { type: 'basic', username: 'WEIR_COMM', password: 'Welcome1!' }, sapClient: '100', pageSize: 2 });
  const prefix = uniqueTopicPrefix('erp');
  const stateDir = tempDir('state');
  let k: Awaited<ReturnType<typeof testKafka>>;
  let service: TestService;
  const topic = (name: string): string => `${prefix}${name}`;
  const read = async (name: string) => readTopic(k.kafka, k.admin, topic(name));
  const settings = () => ({
    topicPrefix: prefix,
    stateDir,
    enterprise: 'acme',
    sap: {
      baseUrl: sap.baseUrl,
      sapClient: '100',
      auth: { type: 'basic' as const, username: 'WEIR_COMM', password: 'Welcome1!' },
      pollInterval: '1h',
      deltaOverlap: '1m',
      retry: { initialDelay: '10ms', maxDelay: '50ms' },
      functionalLocations: { levelByDepth: ['site', 'area', 'line'] as ('site' | 'area' | 'line')[] },
      productionOrders: { assetByWorkCenter: { 'PACK-L1': '1710-PACK-L1' }, idealCycleTimes: { 'FG-330': 0.15 } },
    },
  });

  beforeAll(async () => {
    await sap.start();
    sap.put(...FL, '1710', functionalLocation('1710', null, minute(0)), minute(0));
    sap.put(...FL, '1710-PACK', functionalLocation('1710-PACK', '1710', minute(1)), minute(1));
    sap.put(...FL, '1710-PACK-L1', functionalLocation('1710-PACK-L1', '1710-PACK', minute(2)), minute(2));
    for (let i = 1; i <= 4; i++) sap.put(...EQ, `1000004${i}`, equipment(`1000004${i}`, '1710-PACK-L1', minute(2 + i)), minute(2 + i));
    for (let i = 1; i <= 5; i++) sap.put(...MO, `400000${i}`, maintenanceOrder(`400000${i}`, `1000004${(i % 4) + 1}`, minute(10 + i)), minute(10 + i));
    for (let i = 1; i <= 3; i++) sap.put(...PO, `100012${i}`, productionOrder(`100012${i}`, 'PACK-L1', minute(20 + i)), minute(20 + i));
    k = await testKafka();
    service = await startService(settings());
  });

  afterAll(async () => {
    await service?.sync.stop();
    await k?.close();
    await sap.close();
    removeTempDirs();
  });

  it('loads every entity set across several pages into the compacted topics', async () => {
    const results = await service.sync.pollNow('sap');
    expect(results.map((r) => [r.feed, r.ok, r.mode])).toEqual([
      ['sap:API_FUNCTIONALLOCATION/FunctionalLocation', true, 'full'],
      ['sap:API_EQUIPMENT/Equipment', true, 'full'],
      ['sap:API_MAINTENANCEORDER/MaintenanceOrder', true, 'full'],
      ['sap:API_PRODUCTION_ORDER_2_SRV/A_ProductionOrder_2', true, 'full'],
    ]);
    // 5 maintenance orders in pages of 2: three requests, the later ones by $skiptoken, all with basic auth and sap-client.
    const mo = sap.requestsTo(...MO);
    expect(mo.map((r) => r.query.get('$skiptoken'))).toEqual([null, '2', '4']);
    expect(mo.every((r) => r.authorization === `Basic ${Buffer.from('WEIR_COMM:Welcome1!').toString('base64')}` && r.query.get('sap-client') === '100')).toBe(true);

    const assets = latestByKey(await read('erp.assets.v1'));
    expect([...assets.keys()].sort()).toEqual(['10000041', '10000042', '10000043', '10000044', '1710', '1710-PACK', '1710-PACK-L1']);
    expect(assets.get('1710-PACK-L1')).toMatchObject({ parentId: '1710-PACK', level: 'line', path: 'acme/1710/1710-PACK/1710-PACK-L1', costCentre: '17101301', origin: 'sap:API_FUNCTIONALLOCATION' });
    expect(assets.get('10000043')).toMatchObject({ parentId: '1710-PACK-L1', level: 'machine', path: 'acme/1710/1710-PACK/1710-PACK-L1/10000043', name: 'Equipment 10000043', changedAt: new Date(minute(5)).toISOString() });

    const workOrders = latestByKey(await read('erp.work-orders.v1'));
    expect(workOrders.size).toBe(5);
    expect(workOrders.get('4000001')).toMatchObject({ assetId: '10000042', type: 'YBA1', status: 'released', validFrom: '2026-11-25T07:00:00.000Z', validTo: null });

    const productionOrders = latestByKey(await read('erp.production-orders.v1'));
    expect(productionOrders.get('1000121')).toMatchObject({ assetId: '1710-PACK-L1', material: 'FG-330', plannedQuantity: 12000, unit: 'PC', idealCycleTimeS: 0.15, status: 'released' });
    expect(await metricValue(service.metrics, 'weir_erp_sync_records_published_total', { entity: 'assets', op: 'upsert' })).toBe(7);
  });

  it('publishes only what changed on a delta poll', async () => {
    const before = { assets: await read('erp.assets.v1'), wo: await read('erp.work-orders.v1'), po: await read('erp.production-orders.v1') };
    sap.put(...MO, '4000002', maintenanceOrder('4000002', '10000043', minute(30), { SystemStatusText: 'TECO PRC', MaintOrderReferenceDateTime: `/Date(${minute(29)}+0000)/` }), minute(30));
    sap.put(...PO, '1000124', productionOrder('1000124', 'PACK-L1', minute(31)), minute(31));
    const requestsBefore = sap.requestsTo(...MO).length;

    const results = await service.sync.pollNow('sap');
    expect(results.every((r) => r.ok && r.mode === 'delta')).toBe(true);
    // The delta asks from the checkpoint (the newest change read, 08:15) less the 1 min overlap.
    expect(sap.requestsTo(...MO)[requestsBefore]!.query.get('$filter')).toBe("LastChangeDateTime gt datetimeoffset'2026-11-25T08:14:00Z'");

    const wo = appended(before.wo, await read('erp.work-orders.v1'));
    expect(appended(before.assets, await read('erp.assets.v1'))).toEqual([]);
    // 4000005 (08:15) was read again inside the overlap but had not changed: not republished.
    expect(wo.map((m) => m.key)).toEqual(['4000002']);
    expect(wo[0]!.value).toMatchObject({ status: 'completed', validTo: new Date(minute(29)).toISOString() });
    expect(appended(before.po, await read('erp.production-orders.v1')).map((m) => m.key)).toEqual(['1000124']);
  });

  it('turns a deletion flag into a tombstone, and a record gone from SAP into one at reconciliation', async () => {
    sap.put(...EQ, '10000044', equipment('10000044', '1710-PACK-L1', minute(40), { EquipmentIsMarkedForDeletion: true }), minute(40));
    await service.sync.pollNow('sap');
    expect(latestByKey(await read('erp.assets.v1')).get('10000044')).toBeNull();

    // Archived/hard-deleted: the delta cannot show it, only a full read can.
    sap.remove(...MO, '4000003');
    await service.sync.pollNow('sap');
    const before = await read('erp.work-orders.v1');
    expect(latestByKey(before).get('4000003')).not.toBeNull();
    const results = await service.sync.pollNow('sap', { full: true });
    expect(results.every((r) => r.ok && r.mode === 'full')).toBe(true);
    // The reconciliation read everything but published only the tombstone.
    expect(appended(before, await read('erp.work-orders.v1')).map((m) => [m.key, m.value])).toEqual([['4000003', null]]);
    expect(await metricValue(service.metrics, 'weir_erp_sync_records_published_total', { entity: 'workOrders', op: 'tombstone' })).toBe(1);
  });

  it('logs an OData error with its code and message and retries until it succeeds', async () => {
    sap.put(...MO, '4000004', maintenanceOrder('4000004', '10000041', minute(50), { SystemStatusText: 'REL  PCNF' }), minute(50));
    sap.failNext(...MO, { status: 500, body: odataErrorBody('/IWBEP/CM_MGW_RT/020', 'Internal error in the backend; see transaction /IWFND/ERROR_LOG') }, { status: 503, body: odataErrorBody('/IWFND/CM_BEC/004', 'Backend system not available'), headers: { 'retry-after': '0' } });
    const results = await service.sync.pollNow('sap');
    expect(results.find((r) => r.feed === 'sap:API_MAINTENANCEORDER/MaintenanceOrder')).toMatchObject({ ok: true, published: 1 });
    const retries = service.lines.filter((l) => l['msg'] === 'request failed; retrying');
    expect(retries.map((l) => [l['code'], l['status'], l['odataCode'], l['attempt']])).toEqual([
      ['ERP.ODATA_ERROR', 500, '/IWBEP/CM_MGW_RT/020', 1],
      ['ERP.ODATA_ERROR', 503, '/IWFND/CM_BEC/004', 2],
    ]);
    expect(retries[0]!['err']).toContain('Internal error in the backend; see transaction /IWFND/ERROR_LOG');
    expect(await metricValue(service.metrics, 'weir_erp_sync_http_retries_total', { service: 'API_MAINTENANCEORDER', code: 'ERP.ODATA_ERROR' })).toBe(2);
    expect(latestByKey(await read('erp.work-orders.v1')).get('4000004')).toMatchObject({ status: 'in-progress' });
  });

  it('keeps the checkpoint when a poll fails for good, and reports it in readiness', async () => {
    const down = { status: 502, body: odataErrorBody('/IWFND/CM_BEC/004', 'Backend system not available') };
    sap.failNext(...PO, down, down, down, down, down);
    const results = await service.sync.pollNow('sap');
    expect(results.find((r) => r.feed === 'sap:API_PRODUCTION_ORDER_2_SRV/A_ProductionOrder_2')).toMatchObject({ ok: false, error: 'ERP.ODATA_ERROR: API_PRODUCTION_ORDER_2_SRV/A_ProductionOrder_2: HTTP 502 Bad Gateway: /IWFND/CM_BEC/004 "Backend system not available"' });
    expect(await metricValue(service.metrics, 'weir_erp_sync_errors_total', { feed: 'sap:API_PRODUCTION_ORDER_2_SRV/A_ProductionOrder_2', code: 'ERP.ODATA_ERROR' })).toBe(1);
    const report = await service.health.report('readiness');
    expect(report.checks['erp-feed:sap:API_PRODUCTION_ORDER_2_SRV/A_ProductionOrder_2']!.detail).toMatch(/last error: ERP.ODATA_ERROR/);
  });

  it('resumes from the checkpoint after a restart instead of loading everything again', async () => {
    await service.sync.stop();
    const before = { assets: await read('erp.assets.v1'), wo: await read('erp.work-orders.v1') };
    sap.put(...MO, '4000005', maintenanceOrder('4000005', '10000042', minute(60), { MaintenanceOrderDesc: 'Changed while erp-sync was down' }), minute(60));
    const requestsBefore = sap.requestsTo(...MO).length;

    service = await startService(settings());
    const results = await service.sync.pollNow('sap');
    expect(results.every((r) => r.ok && r.mode === 'delta')).toBe(true);
    expect(sap.requestsTo(...MO)[requestsBefore]!.query.get('$filter')).toBe("LastChangeDateTime gt datetimeoffset'2026-11-25T08:49:00Z'");
    expect(appended(before.assets, await read('erp.assets.v1'))).toEqual([]);
    expect(appended(before.wo, await read('erp.work-orders.v1')).map((m) => [m.key, m.value?.['description']])).toEqual([['4000005', 'Changed while erp-sync was down']]);
  });
});

describe('erp-sync against SAP OData v2 (OAuth client credentials)', () => {
  const sap = new FakeSap({ auth: { type: 'oauth2', clientId: 'weir-erp-sync', clientSecret: 'cs-123', tokenLifetimeS: 3600 }, pageSize: 3 });
  const prefix = uniqueTopicPrefix('erp-oauth');
  let k: Awaited<ReturnType<typeof testKafka>>;
  let service: TestService;

  beforeAll(async () => {
    await sap.start();
    for (let i = 1; i <= 4; i++) sap.put(...MO, `500000${i}`, maintenanceOrder(`500000${i}`, 'E1', minute(i)), minute(i));
    k = await testKafka();
    service = await startService({
      topicPrefix: prefix,
      stateDir: tempDir('oauth'),
      sap: {
        baseUrl: sap.baseUrl,
        auth: { type: 'oauth2', tokenUrl: `${sap.baseUrl}/oauth/token`, clientId: 'weir-erp-sync', clientSecret: 'cs-123' },
        pollInterval: '1h',
        functionalLocations: { enabled: false },
        equipment: { enabled: false },
        productionOrders: { enabled: false },
      },
    });
  });

  afterAll(async () => {
    await service?.sync.stop();
    await k?.close();
    await sap.close();
    removeTempDirs();
  });

  it('gets a token once, and a new one when the service answers 401', async () => {
    await service.sync.pollNow('sap');
    expect(sap.tokenRequests).toBe(1);
    expect(latestByKey(await readTopic(k.kafka, k.admin, `${prefix}erp.work-orders.v1`)).size).toBe(4);

    sap.revokeTokens();
    sap.put(...MO, '5000005', maintenanceOrder('5000005', 'E1', minute(10)), minute(10));
    const [result] = await service.sync.pollNow('sap');
    expect(result).toMatchObject({ ok: true, published: 1 });
    expect(sap.tokenRequests).toBe(2);
    expect(service.lines.some((l) => l['msg'] === 'the service rejected the token (401); fetching a new one')).toBe(true);
    expect(sap.requestsTo(...MO).every((r) => r.authorization?.startsWith('Bearer '))).toBe(true);
    expect(latestByKey(await readTopic(k.kafka, k.admin, `${prefix}erp.work-orders.v1`)).get('5000005')).toMatchObject({ assetId: 'E1' });
  });
});
