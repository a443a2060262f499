import { erpAssetV1Schema, erpProductionOrderV1Schema, erpWorkOrderV1Schema } from '@weir/contracts';
import { describe, expect, it } from 'vitest';
import { equipment, functionalLocation, maintenanceOrder, productionOrder } from '../../test/sap-fixtures';
import { combineSapDateTime, dateTimeOffsetLiteral, odataDateToIso, parseODataDate, parseODataTime } from './odata-values';
import { currentEquipmentSegments, maintenanceOrderStatus, mapEquipment, mapFunctionalLocation, mapMaintenanceOrder, mapProductionOrder, productionOrderStatus, type SapMappingOptions } from './sap-mapping';

const T = Date.parse('2026-11-25T09:30:00Z');
const options: SapMappingOptions = {
  timeZone: 'UTC',
  timeZoneByPlant: { '1710': 'America/Los_Angeles' },
  functionalLocationIdPrefix: '',
  equipmentIdPrefix: '',
  functionalLocationLevelByCategory: {},
  equipmentLevelByTechnicalObjectType: {},
  equipmentLevelByCategory: {},
  assetByWorkCenter: { 'PACK-L1': 'line1' },
  assetByPlant: { '1710': 'palo-alto' },
  idealCycleTimeS: { 'FG-330': 0.15, 'FG-330@line2': 0.2 },
};

describe('OData v2 values', () => {
  it('read /Date(…)/ with and without an offset as UTC milliseconds', () => {
    expect(parseODataDate('/Date(1700000000000+0000)/')).toBe(1_700_000_000_000);
    expect(odataDateToIso('/Date(1700000000000+0000)/')).toBe('2023-11-14T22:13:20.000Z');
    // The offset says which zone the writer was in; the ticks are UTC already.
    expect(parseODataDate('/Date(1700000000000+0060)/')).toBe(1_700_000_000_000);
    expect(parseODataDate('/Date(1492041600000)/')).toBe(Date.UTC(2017, 3, 13));
    expect(parseODataDate('/Date(-62135596800000)/')).toBe(-62_135_596_800_000);
    expect(parseODataDate('2023-11-14T22:13:20Z')).toBe(1_700_000_000_000);
    expect([parseODataDate(null), parseODataDate(''), parseODataDate('/Date(abc)/'), parseODataDate('2023-11-14T22:13:20')]).toEqual([undefined, undefined, undefined, undefined]);
  });

  it('read Edm.Time durations', () => {
    expect(parseODataTime('PT14H30M05S')).toBe((14 * 3600 + 30 * 60 + 5) * 1000);
    expect(parseODataTime('PT00H00M00S')).toBe(0);
    expect(parseODataTime('PT9H')).toBe(9 * 3_600_000);
    expect(parseODataTime('14:30')).toBeUndefined();
  });

  it('read a local date and time in the plant zone', () => {
    // 06:00 in Palo Alto on 25 Nov 2026 (PST, UTC-8) is 14:00 UTC.
    expect(new Date(combineSapDateTime('/Date(1795564800000)/', 'PT06H00M00S', 'America/Los_Angeles')!).toISOString()).toBe('2026-11-25T14:00:00.000Z');
    expect(combineSapDateTime(null, 'PT06H00M00S', 'UTC')).toBeUndefined();
  });

  it('write delta filters as datetimeoffset literals to the second', () => {
    expect(dateTimeOffsetLiteral('2023-11-14T22:13:20.999Z')).toBe("datetimeoffset'2023-11-14T22:13:20Z'");
  });
});

describe('functional locations', () => {
  it('become assets with parent, cost centre, SAP attributes and the change time', () => {
    const m = mapFunctionalLocation(functionalLocation('1710-SPA-SAC', '1710-SPA', T), options);
    expect(m).toEqual({
      kind: 'upsert',
      id: '1710-SPA-SAC',
      value: {
        id: '1710-SPA-SAC',
        parentId: '1710-SPA',
        name: 'Location 1710-SPA-SAC',
        costCentre: '17101301',
        // CreationDate 2017-04-13 is a local date of plant 1710 (Pacific time).
        validFrom: '2017-04-13T07:00:00.000Z',
        validTo: null,
        changedAt: '2026-11-25T09:30:00.000Z',
        origin: 'sap:API_FUNCTIONALLOCATION',
        attributes: { sapObject: 'FunctionalLocation', functionalLocation: '1710-SPA-SAC', label: '1710-SPA-SAC', category: 'M', structure: 'YB-STR', plant: '1710', planningPlant: '1710', companyCode: '1710', controllingArea: 'A000', workCenter: 'RES-0300' },
      },
    });
  });

  it('are roots without a superior, take a level by category, and end validity when deactivated', () => {
    const m = mapFunctionalLocation(functionalLocation('1710', null, T, { FunctionalLocationCategory: 'S', FuncnlLocIsDeactivated: true }), { ...options, functionalLocationLevelByCategory: { S: 'site' } });
    expect(m.kind === 'upsert' && [m.value.parentId, m.value.level, m.value.validTo]).toEqual([null, 'site', '2026-11-25T09:30:00.000Z']);
  });

  it('marked for deletion or deleted become deletions', () => {
    expect(mapFunctionalLocation(functionalLocation('A', null, T, { FuncnlLocIsMarkedForDeletion: true }), options)).toEqual({ kind: 'delete', id: 'A', reason: 'FuncnlLocIsMarkedForDeletion' });
    expect(mapFunctionalLocation(functionalLocation('A', null, T, { FuncnlLocIsDeleted: true }), options)).toMatchObject({ kind: 'delete', reason: 'FuncnlLocIsDeleted' });
  });

  it('without a key or change time are errors, not messages', () => {
    expect(mapFunctionalLocation({ FunctionalLocation: '' }, options)).toEqual({ kind: 'error', reason: 'no FunctionalLocation' });
    expect(mapFunctionalLocation(functionalLocation('A', null, T, { LastChangeDateTime: null, CreationDate: null }), options)).toEqual({ kind: 'error', id: 'A', reason: 'no LastChangeDateTime' });
  });
});

describe('equipment', () => {
  it('becomes a machine under its functional location, valid from its time segment', () => {
    const m = mapEquipment(equipment('10000045', '1710-SPA-SAC', T), options);
    expect(m.kind).toBe('upsert');
    if (m.kind !== 'upsert') return;
    expect(m.value).toMatchObject({ id: '10000045', parentId: '1710-SPA-SAC', level: 'machine', name: 'Equipment 10000045', costCentre: '17101302', validFrom: '2017-04-13T07:00:00.000Z', validTo: null, origin: 'sap:API_EQUIPMENT' });
    expect(m.value.attributes).toMatchObject({ manufacturer: 'Krones', model: 'Modulfill HRS', serialNumber: 'K-4711', technicalObjectType: '9500' });
    expect(erpAssetV1Schema.safeParse({ ...m.value, path: 'x' }).success).toBe(true);
  });

  it('under a superordinate equipment is at equipment level; rules by type and category win', () => {
    const sub = mapEquipment(equipment('10000046', '1710-SPA-SAC', T, { SuperordinateEquipment: '10000045' }), options);
    expect(sub.kind === 'upsert' && [sub.value.parentId, sub.value.level]).toEqual(['10000045', 'equipment']);
    const typed = mapEquipment(equipment('1', 'L', T), { ...options, equipmentLevelByTechnicalObjectType: { '9500': 'cell' }, equipmentLevelByCategory: { M: 'machine' } });
    expect(typed.kind === 'upsert' && typed.value.level).toBe('cell');
  });

  it('ends validity at the end of its last day when the time segment ends', () => {
    const m = mapEquipment(equipment('1', 'L', T, { ValidityEndDate: '/Date(1798675200000)/' }), { ...options, timeZoneByPlant: {} });
    expect(m.kind === 'upsert' && m.value.validTo).toBe('2027-01-01T00:00:00.000Z');
  });

  it('marked for deletion becomes a deletion', () => {
    expect(mapEquipment(equipment('10000045', 'L', T, { EquipmentIsMarkedForDeletion: true }), options)).toEqual({ kind: 'delete', id: '10000045', reason: 'EquipmentIsMarkedForDeletion' });
  });

  it('keeps the time segment valid now of each equipment', () => {
    const old = equipment('1', 'OLD', T, { ValidityStartDate: '/Date(1483228800000)/', ValidityEndDate: '/Date(1577750400000)/' });
    const current = equipment('1', 'NEW', T, { ValidityStartDate: '/Date(1577836800000)/' });
    expect(currentEquipmentSegments([current, old, equipment('2', 'X', T)], T).map((r) => [r['Equipment'], r['FunctionalLocation']])).toEqual([['1', 'NEW'], ['2', 'X']]);
  });
});

describe('maintenance orders', () => {
  it('take their status from the system status', () => {
    expect(['CRTD MANC', 'REL  MANC', 'REL  PCNF', 'REL  CNF  PRC', 'TECO PRC', 'CLSD TECO', '', undefined].map((s) => maintenanceOrderStatus(s))).toEqual(['created', 'released', 'in-progress', 'completed', 'completed', 'closed', 'created', 'created']);
  });

  it('become open work orders from the basic start, on their equipment', () => {
    const m = mapMaintenanceOrder(maintenanceOrder('4000001', '10000045', T), options);
    expect(m).toEqual({
      kind: 'upsert',
      id: '4000001',
      value: {
        id: '4000001',
        assetId: '10000045',
        type: 'YBA1',
        status: 'released',
        description: 'Replace valve 4000001',
        // 07:00 local in plant 1710 (UTC-8).
        validFrom: '2026-11-25T15:00:00.000Z',
        validTo: null,
        changedAt: '2026-11-25T09:30:00.000Z',
        origin: 'sap:API_MAINTENANCEORDER',
        attributes: { sapObject: 'MaintenanceOrder', systemStatus: 'REL  MANC NMAT PRC  SETC', activityType: 'YB1', priority: '2', plant: '1710', workCenter: 'RES-0300', notification: '10000002', costCenter: '17101301', equipment: '10000045', basicEnd: '2026-11-25T23:00:00.000Z' },
      },
    });
    expect(m.kind === 'upsert' && erpWorkOrderV1Schema.safeParse(m.value).success).toBe(true);
  });

  it('end at technical completion (the reference date) once TECO', () => {
    const m = mapMaintenanceOrder(maintenanceOrder('4000002', '', T, { FunctionalLocation: '1710-SPA', SystemStatusText: 'TECO PRC', MaintOrdBasicStartDateTime: '/Date(1795590000000+0000)/', MaintOrderReferenceDateTime: '/Date(1795600800000+0000)/' }), options);
    expect(m.kind === 'upsert' && [m.value.assetId, m.value.status, m.value.validFrom, m.value.validTo]).toEqual(['1710-SPA', 'completed', '2026-11-25T07:00:00.000Z', '2026-11-25T10:00:00.000Z']);
  });

  it('completed before the planned start get an empty-free interval', () => {
    const m = mapMaintenanceOrder(maintenanceOrder('4000003', 'E', T, { SystemStatusText: 'TECO', MaintOrderReferenceDateTime: '/Date(1700000000000+0000)/' }), options);
    expect(m.kind === 'upsert' && m.value.validTo).toBe(m.kind === 'upsert' ? m.value.validFrom : '');
  });

  it('flagged for deletion become deletions', () => {
    expect(mapMaintenanceOrder(maintenanceOrder('4000004', 'E', T, { SystemStatusText: 'REL  DLFL' }), options)).toEqual({ kind: 'delete', id: '4000004', reason: 'system status DLFL' });
  });

  it('without a technical object fall back to the plant mapping', () => {
    const m = mapMaintenanceOrder(maintenanceOrder('4000005', '', T), options);
    expect(m.kind === 'upsert' && m.value.assetId).toBe('palo-alto');
  });
});

describe('production orders', () => {
  it('take the first operation work center as asset, the quantity and ideal cycle time', () => {
    const m = mapProductionOrder(productionOrder('1000123', 'PACK-L1', T), options);
    expect(m.kind).toBe('upsert');
    if (m.kind !== 'upsert') return;
    expect(m.value).toMatchObject({ id: '1000123', assetId: 'line1', material: 'FG-330', plannedQuantity: 12000, unit: 'PC', idealCycleTimeS: 0.15, status: 'released', validFrom: '2026-11-25T14:00:00.000Z', validTo: null, origin: 'sap:API_PRODUCTION_ORDER_2_SRV' });
    expect(m.value.attributes).toMatchObject({ workCenter: 'PACK-L1', scheduledEnd: '2026-11-25T22:00:00.000Z', orderType: 'YBM1' });
    expect(erpProductionOrderV1Schema.safeParse(m.value).success).toBe(true);
  });

  it('prefer a per-asset cycle time, then the configured field', () => {
    const perAsset = mapProductionOrder(productionOrder('1', 'line2', T), options);
    expect(perAsset.kind === 'upsert' && perAsset.value.idealCycleTimeS).toBe(0.2);
    const field = mapProductionOrder(productionOrder('1', 'line2', T, { YY1_IdealCycleTime_ORD: '0.125' }), { ...options, idealCycleTimeField: 'YY1_IdealCycleTime_ORD' });
    expect(field.kind === 'upsert' && field.value.idealCycleTimeS).toBe(0.125);
  });

  it('start at the actual start when the release has it and end when completed', () => {
    const m = mapProductionOrder(productionOrder('1', 'PACK-L1', T, { MfgOrderActualStartDate: '/Date(1795564800000)/', MfgOrderActualStartTime: 'PT06H20M00S', OrderIsTechnicallyCompleted: true, MfgOrderConfirmedEndDate: '/Date(1795564800000)/', MfgOrderConfirmedEndTime: 'PT13H10M00S' }), options);
    expect(m.kind === 'upsert' && [m.value.status, m.value.validFrom, m.value.validTo]).toEqual(['completed', '2026-11-25T14:20:00.000Z', '2026-11-25T21:10:00.000Z']);
  });

  it('map the status flags', () => {
    const s = (extra: Record<string, unknown>): string => productionOrderStatus({ ...productionOrder('1', 'W', T), ...extra });
    expect([s({ OrderIsReleased: false }), s({}), s({ OrderIsPartiallyConfirmed: true }), s({ OrderIsConfirmed: true }), s({ OrderIsClosed: true, OrderIsTechnicallyCompleted: true })]).toEqual(['created', 'released', 'in-progress', 'completed', 'closed']);
  });

  it('deleted or flagged become deletions; a broken quantity is an error', () => {
    expect(mapProductionOrder(productionOrder('1', 'W', T, { OrderIsMarkedForDeletion: true }), options)).toMatchObject({ kind: 'delete', id: '1' });
    expect(mapProductionOrder(productionOrder('1', 'W', T, { TotalQuantity: 'lots' }), options)).toMatchObject({ kind: 'error', id: '1', reason: 'TotalQuantity "lots" is not a non-negative number' });
  });

  it('without operations attach to the plant', () => {
    const m = mapProductionOrder(productionOrder('1', 'W', T, { to_ProductionOrderOperation: { __deferred: { uri: 'x' } } }), options);
    expect(m.kind === 'upsert' && m.value.assetId).toBe('palo-alto');
  });
});
