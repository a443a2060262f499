import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { metricValue, removeTempDirs, tempDir, uniqueTopicPrefix } from '@weir/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { latestByKey, readTopic, startService, testKafka, type TestService } from './helpers';

/**
 * The file adapter (plants without SAP) and the shift calendar, against the
 * shared Kafka: valid drops are published and moved to done/, an invalid one
 * is moved to failed/ with its errors by line and nothing of it is published;
 * shifts are expanded across a DST change.
 */
describe('erp-sync file drops and shift calendar', () => {
  const prefix = uniqueTopicPrefix('erp-files');
  const drop = tempDir('drop');
  let k: Awaited<ReturnType<typeof testKafka>>;
  let service: TestService;
  const read = async (name: string) => readTopic(k.kafka, k.admin, `${prefix}${name}`);

  beforeAll(async () => {
    k = await testKafka();
    service = await startService(
      {
        topicPrefix: prefix,
        stateDir: tempDir('state'),
        enterprise: 'acme',
        files: { dir: drop, pollInterval: '1h', settle: '0ms', timeZone: 'Europe/Berlin' },
        shifts: {
          past: '1d',
          future: '3d',
          sites: [
            {
              siteId: 'hamburg',
              timeZone: 'Europe/Berlin',
              shifts: [
                { name: 'early', start: '06:00', end: '14:00', breakMinutes: 30 },
                { name: 'late', start: '14:00', end: '22:00', breakMinutes: 30 },
                { name: 'night', start: '22:00', end: '06:00', breakMinutes: 30 },
              ],
            },
          ],
        },
      },
      // Two days before Europe's clocks spring forward (29 March 2026).
      { now: () => new Date('2026-03-27T12:00:00Z') },
    );
  });

  afterAll(async () => {
    await service?.sync.stop();
    await k?.close();
    removeTempDirs();
  });

  it('publishes valid drops, moves them to done/, and rejects a bad file whole with its lines', async () => {
    writeFileSync(
      join(drop, 'assets-2026-11-25.csv'),
      ['id,parentId,level,name,costCentre,validFrom', 'hamburg,,site,Hamburg,,2020-01-01', 'packaging,hamburg,area,Packaging,,2020-01-01', 'line1,packaging,line,Line 1,4711,2020-01-01', '"filler1",line1,machine,"Filler 1, Krones",4711,2020-01-01 06:00'].join('\r\n'),
    );
    writeFileSync(
      join(drop, 'work-orders.json'),
      JSON.stringify([
        { id: 'WO-1', assetId: 'filler1', type: 'PM01', status: 'released', description: 'Replace valve', validFrom: '2026-11-25T07:00:00Z', changedAt: '2026-11-25T07:00:00Z' },
        { id: 'WO-2', assetId: 'line1', type: 'PM02', status: 'completed', validFrom: '2026-11-24T07:00:00Z', validTo: '2026-11-24T09:00:00Z', changedAt: '2026-11-24T09:00:00Z' },
      ]),
    );
    writeFileSync(join(drop, 'production-orders-bad.csv'), ['id,assetId,material,plannedQuantity,status,validFrom', '1000123,line1,FG-330,12000,released,2026-11-25 06:00', '1000124,line1,FG-330,-5,released,2026-11-25 14:00'].join('\n'));
    writeFileSync(join(drop, 'notes.txt'), 'not for us');

    const results = await service.sync.pollNow('files');
    expect(results).toEqual([{ feed: 'files', ok: true, mode: 'full', published: 6 }]);

    const assets = latestByKey(await read('erp.assets.v1'));
    expect(assets.get('filler1')).toMatchObject({ parentId: 'line1', level: 'machine', name: 'Filler 1, Krones', path: 'acme/hamburg/packaging/line1/filler1', costCentre: '4711', validFrom: '2020-01-01T06:00:00+01:00' });
    expect(assets.get('hamburg')).toMatchObject({ parentId: null, path: 'acme/hamburg' });
    expect(latestByKey(await read('erp.work-orders.v1')).get('WO-2')).toMatchObject({ status: 'completed', validTo: '2026-11-24T09:00:00Z' });
    expect(await read('erp.production-orders.v1')).toEqual([]);

    expect(readdirSync(join(drop, 'done')).sort()).toEqual(['assets-2026-11-25.csv', 'work-orders.json']);
    expect(readdirSync(join(drop, 'failed')).sort()).toEqual(['notes.txt', 'notes.txt.errors.txt', 'production-orders-bad.csv', 'production-orders-bad.csv.errors.txt']);
    expect(readFileSync(join(drop, 'failed', 'production-orders-bad.csv.errors.txt'), 'utf8')).toMatch(/^production-orders-bad\.csv line 3 \(id 1000124\): plannedQuantity: Too small/);
    expect(existsSync(join(drop, 'assets-2026-11-25.csv'))).toBe(false);
    expect(await metricValue(service.metrics, 'weir_erp_sync_files_total', { outcome: 'failed' })).toBe(2);
    expect(await metricValue(service.metrics, 'weir_erp_sync_errors_total', { feed: 'files', code: 'ERP.FILE_INVALID' })).toBe(2);
  });

  it('deletes with deleted=true and processes each file once', async () => {
    writeFileSync(join(drop, 'assets-removed.csv'), 'id,deleted\nfiller1,true\n');
    expect(await service.sync.pollNow('files')).toEqual([{ feed: 'files', ok: true, mode: 'delta', published: 1 }]);
    expect(latestByKey(await read('erp.assets.v1')).get('filler1')).toBeNull();
    const count = (await read('erp.assets.v1')).length;
    expect(await service.sync.pollNow('files')).toEqual([{ feed: 'files', ok: true, mode: 'delta', published: 0 }]);
    expect((await read('erp.assets.v1')).length).toBe(count);
  });

  it('publishes the shift calendar with local offsets, the night of the DST change 7 hours long', async () => {
    expect(await service.sync.pollNow('shifts')).toEqual([{ feed: 'shifts', ok: true, mode: 'full', published: 12 }]);
    const shifts = latestByKey(await read('erp.shifts.v1'));
    expect(shifts.get('hamburg-2026-03-28-night')).toMatchObject({ siteId: 'hamburg', name: 'night', plannedBreakMinutes: 30, validFrom: '2026-03-28T22:00:00+01:00', validTo: '2026-03-29T06:00:00+02:00', attributes: { lengthMinutes: 420, plannedMinutes: 390, timeZone: 'Europe/Berlin' } });
    expect(shifts.get('hamburg-2026-03-29-early')).toMatchObject({ validFrom: '2026-03-29T06:00:00+02:00' });
    // Expanding again an hour later finds nothing new to say.
    expect(await service.sync.pollNow('shifts')).toEqual([{ feed: 'shifts', ok: true, mode: 'delta', published: 0 }]);
  });
});
