import type { ErpProductionOrderV1, ErpWorkOrderV1, JsonValue } from '@weir/contracts';
import type { Isa95Level } from '@weir/domain';
import type { AssetDraft } from '../assets/asset-draft';
import { combineSapDateTime, odataDateToIso, parseODataBoolean, parseODataDate, parseODataDecimal, SAP_MAX_DATE_MS, text } from './odata-values';

// Pure functions from SAP OData v2 records (API_FUNCTIONALLOCATION,
// API_EQUIPMENT, API_MAINTENANCEORDER, API_PRODUCTION_ORDER_2_SRV) to Weir's
// ERP messages. Field names are SAP's published ones.

/** A raw entity as it comes in `d.results`. */
export type SapRecord = Record<string, unknown>;

/** What one SAP record becomes: a message, a deletion (tombstone), or a reason it could not be mapped. */
export type Mapped<T> = { kind: 'upsert'; id: string; value: T } | { kind: 'delete'; id: string; reason: string } | { kind: 'error'; id?: string; reason: string };

/** Work and production order status as the contracts know it. */
export type OrderStatus = ErpWorkOrderV1['status'];

/** Settings of the mapping, from the service configuration. */
export interface SapMappingOptions {
  /** Zone of SAP's local date and time fields when the plant has none of its own. */
  timeZone: string;
  /** Zone per plant (`1710` -> `America/Los_Angeles`). */
  timeZoneByPlant: Readonly<Record<string, string>>;
  /** Prefixes of asset ids, should functional location and equipment numbers overlap; empty by default. */
  functionalLocationIdPrefix: string;
  equipmentIdPrefix: string;
  /** Level of a functional location by its category (FunctionalLocationCategory), before the depth rule. */
  functionalLocationLevelByCategory: Readonly<Record<string, Isa95Level>>;
  /** Level of an equipment by its technical object type (TechnicalObjectType), checked first. */
  equipmentLevelByTechnicalObjectType: Readonly<Record<string, Isa95Level>>;
  /** Level of an equipment by its category (EquipmentCategory, e.g. `M` machine). */
  equipmentLevelByCategory: Readonly<Record<string, Isa95Level>>;
  /** Asset of a production order by the work center of its first operation. */
  assetByWorkCenter: Readonly<Record<string, string>>;
  /** Asset of an order by plant, when it names no work center or technical object. */
  assetByPlant: Readonly<Record<string, string>>;
  /** Ideal cycle time in seconds by material, or by `material@assetId` (which wins). */
  idealCycleTimeS: Readonly<Record<string, number>>;
  /** A field of the production order holding the ideal cycle time in seconds (an extension field such as `YY1_IdealCycleTime_ORD`), used when present. */
  idealCycleTimeField?: string;
}

const iso = (ms: number): string => new Date(ms).toISOString();

function zoneOf(o: SapMappingOptions, plant: unknown): string {
  const p = text(plant);
  return (p !== undefined ? o.timeZoneByPlant[p] : undefined) ?? o.timeZone;
}

/** Drops undefined and empty values so attributes stay small and valid JSON. */
function compact(attrs: Record<string, JsonValue | undefined>): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = {};
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== '') out[k] = v;
  return out;
}

/** LastChangeDateTime as ISO, the basis of delta polling and of `changedAt`. */
export function lastChange(r: SapRecord): string | undefined {
  return odataDateToIso(r['LastChangeDateTime']);
}

/** The asset id of a functional location. */
export function functionalLocationAssetId(o: SapMappingOptions, functionalLocation: string): string {
  return `${o.functionalLocationIdPrefix}${functionalLocation}`;
}

/** The asset id of an equipment. */
export function equipmentAssetId(o: SapMappingOptions, equipment: string): string {
  return `${o.equipmentIdPrefix}${equipment}`;
}

/**
 * A functional location (API_FUNCTIONALLOCATION) as an asset: parent from
 * SuperiorFunctionalLocation, cost centre from CostCenter; a location marked
 * for deletion or deleted is a deletion; a deactivated one ends its validity.
 * The level comes from the category rules or, later, from the depth in the tree.
 */
export function mapFunctionalLocation(r: SapRecord, o: SapMappingOptions): Mapped<AssetDraft> {
  const key = text(r['FunctionalLocation']);
  if (!key) return { kind: 'error', reason: 'no FunctionalLocation' };
  const id = functionalLocationAssetId(o, key);
  if (parseODataBoolean(r['FuncnlLocIsMarkedForDeletion']) || parseODataBoolean(r['FuncnlLocIsDeleted'])) {
    return { kind: 'delete', id, reason: parseODataBoolean(r['FuncnlLocIsDeleted']) ? 'FuncnlLocIsDeleted' : 'FuncnlLocIsMarkedForDeletion' };
  }
  const changedAt = lastChange(r) ?? odataDateToIso(r['CreationDate']);
  if (!changedAt) return { kind: 'error', id, reason: 'no LastChangeDateTime' };
  const superior = text(r['SuperiorFunctionalLocation']);
  const plant = r['MaintenancePlant'];
  const created = combineSapDateTime(r['CreationDate'], undefined, zoneOf(o, plant));
  const category = text(r['FunctionalLocationCategory']);
  const level = category !== undefined ? o.functionalLocationLevelByCategory[category] : undefined;
  const costCentre = text(r['CostCenter']);
  return {
    kind: 'upsert',
    id,
    value: {
      id,
      parentId: superior ? functionalLocationAssetId(o, superior) : null,
      ...(level ? { level } : {}),
      name: text(r['FunctionalLocationName']) ?? text(r['FunctionalLocationLabelName']) ?? key,
      ...(costCentre ? { costCentre } : {}),
      validFrom: created !== undefined ? iso(created) : changedAt,
      validTo: parseODataBoolean(r['FuncnlLocIsDeactivated']) ? changedAt : null,
      changedAt,
      origin: 'sap:API_FUNCTIONALLOCATION',
      attributes: compact({
        sapObject: 'FunctionalLocation',
        functionalLocation: key,
        label: text(r['FunctionalLocationLabelName']),
        category,
        structure: text(r['FuncLocationStructure']),
        technicalObjectType: text(r['TechnicalObjectType']),
        plant: text(plant),
        planningPlant: text(r['MaintenancePlanningPlant']),
        companyCode: text(r['CompanyCode']),
        controllingArea: text(r['ControllingArea']),
        workCenter: text(r['MainWorkCenter']),
        deactivated: parseODataBoolean(r['FuncnlLocIsDeactivated']) || undefined,
      }),
    },
  };
}

/**
 * Of several time segments of one equipment (API_EQUIPMENT lists one row per
 * usage period, keyed by Equipment and ValidityEndDate), the one valid at `now`,
 * else the latest. Rows without an Equipment number are kept so they get reported.
 */
export function currentEquipmentSegments(rows: readonly SapRecord[], now: number): SapRecord[] {
  const best = new Map<string, SapRecord>();
  const score = (r: SapRecord): [number, number] => {
    const start = parseODataDate(r['ValidityStartDate']) ?? Number.NEGATIVE_INFINITY;
    const end = parseODataDate(r['ValidityEndDate']) ?? SAP_MAX_DATE_MS;
    // Dates are whole days; the end day is still valid.
    const current = start <= now && now < end + 86_400_000 ? 1 : 0;
    return [current, end];
  };
  const out: SapRecord[] = [];
  for (const r of rows) {
    const key = text(r['Equipment']);
    if (!key) {
      out.push(r);
      continue;
    }
    const prev = best.get(key);
    if (!prev) {
      best.set(key, r);
      continue;
    }
    const [a1, a2] = score(r);
    const [b1, b2] = score(prev);
    if (a1 > b1 || (a1 === b1 && a2 > b2)) best.set(key, r);
  }
  return [...out, ...best.values()];
}

/**
 * An equipment (API_EQUIPMENT) as an asset: parent from SuperordinateEquipment,
 * else FunctionalLocation; level by technical object type, then category, else
 * `equipment` under another equipment and `machine` under a location; validity
 * from the time segment (ValidityStartDate..ValidityEndDate, 9999-12-31 = open).
 */
export function mapEquipment(r: SapRecord, o: SapMappingOptions): Mapped<AssetDraft> {
  const key = text(r['Equipment']);
  if (!key) return { kind: 'error', reason: 'no Equipment' };
  const id = equipmentAssetId(o, key);
  if (parseODataBoolean(r['EquipmentIsMarkedForDeletion'])) return { kind: 'delete', id, reason: 'EquipmentIsMarkedForDeletion' };
  const changedAt = lastChange(r) ?? odataDateToIso(r['CreationDate']);
  if (!changedAt) return { kind: 'error', id, reason: 'no LastChangeDateTime' };
  const superior = text(r['SuperordinateEquipment']);
  const location = text(r['FunctionalLocation']);
  const parentId = superior ? equipmentAssetId(o, superior) : location ? functionalLocationAssetId(o, location) : null;
  const type = text(r['TechnicalObjectType']);
  const category = text(r['EquipmentCategory']);
  const level: Isa95Level = (type !== undefined ? o.equipmentLevelByTechnicalObjectType[type] : undefined) ?? (category !== undefined ? o.equipmentLevelByCategory[category] : undefined) ?? (superior ? 'equipment' : 'machine');
  const plant = r['MaintenancePlant'];
  const zone = zoneOf(o, plant);
  const start = combineSapDateTime(r['ValidityStartDate'], undefined, zone);
  const endDay = parseODataDate(r['ValidityEndDate']);
  // The end date is the last valid day: validity ends at the following midnight.
  const end = endDay !== undefined && endDay < SAP_MAX_DATE_MS ? combineSapDateTime(r['ValidityEndDate'], 'PT24H00M00S', zone) : undefined;
  const costCentre = text(r['CostCenter']);
  return {
    kind: 'upsert',
    id,
    value: {
      id,
      parentId,
      level,
      name: text(r['EquipmentName']) ?? key,
      ...(costCentre ? { costCentre } : {}),
      validFrom: start !== undefined ? iso(start) : changedAt,
      validTo: end !== undefined ? iso(end) : parseODataBoolean(r['EquipmentIsInactive']) ? changedAt : null,
      changedAt,
      origin: 'sap:API_EQUIPMENT',
      attributes: compact({
        sapObject: 'Equipment',
        equipment: key,
        category,
        technicalObjectType: type,
        functionalLocation: location,
        superordinateEquipment: superior,
        plant: text(plant),
        planningPlant: text(r['MaintenancePlanningPlant']),
        workCenter: text(r['MainWorkCenter']),
        manufacturer: text(r['AssetManufacturerName']),
        model: text(r['ManufacturerPartTypeName']),
        serialNumber: text(r['ManufacturerSerialNumber']),
        material: text(r['Material']),
        inactive: parseODataBoolean(r['EquipmentIsInactive']) || undefined,
      }),
    },
  };
}

/**
 * Status of a maintenance order from its system status (SystemStatusText, e.g.
 * `REL  PCNF MANC`): CLSD closed, TECO or CNF completed, PCNF in progress, REL
 * released, CRTD (or nothing known) created. Deletion (DLFL, DLT) is handled
 * before, as a tombstone.
 */
export function maintenanceOrderStatus(systemStatus: string | undefined): OrderStatus {
  const s = new Set((systemStatus ?? '').split(/\s+/).filter(Boolean));
  if (s.has('CLSD')) return 'closed';
  if (s.has('TECO') || s.has('CNF')) return 'completed';
  if (s.has('PCNF')) return 'in-progress';
  if (s.has('REL')) return 'released';
  return 'created';
}

function firstInstant(...candidates: (number | undefined)[]): number | undefined {
  return candidates.find((c) => c !== undefined);
}

function assetOfTechnicalObject(r: SapRecord, o: SapMappingOptions): string | undefined {
  const equipment = text(r['Equipment']);
  if (equipment) return equipmentAssetId(o, equipment);
  const location = text(r['FunctionalLocation']);
  if (location) return functionalLocationAssetId(o, location);
  return undefined;
}

/**
 * A maintenance order (API_MAINTENANCEORDER, entity MaintenanceOrder) as a work
 * order: asset from Equipment, else FunctionalLocation, else the plant mapping;
 * status from the system status; valid from the basic start to technical
 * completion (the reference date SAP sets on TECO), open while not completed.
 */
export function mapMaintenanceOrder(r: SapRecord, o: SapMappingOptions): Mapped<ErpWorkOrderV1> {
  const id = text(r['MaintenanceOrder']);
  if (!id) return { kind: 'error', reason: 'no MaintenanceOrder' };
  const systemStatus = text(r['SystemStatusText']);
  const statusSet = new Set((systemStatus ?? '').split(/\s+/));
  if (statusSet.has('DLFL') || statusSet.has('DLT')) return { kind: 'delete', id, reason: `system status ${statusSet.has('DLT') ? 'DLT' : 'DLFL'}` };
  const changedAt = lastChange(r);
  if (!changedAt) return { kind: 'error', id, reason: 'no LastChangeDateTime' };
  const plant = text(r['MaintenancePlanningPlant']) ?? text(r['MaintenancePlant']);
  const assetId = assetOfTechnicalObject(r, o) ?? (plant !== undefined ? (o.assetByPlant[plant] ?? plant) : undefined);
  if (!assetId) return { kind: 'error', id, reason: 'no Equipment, FunctionalLocation or plant to attach the order to' };
  const zone = zoneOf(o, plant);
  const status = maintenanceOrderStatus(systemStatus);
  const start = firstInstant(
    parseODataDate(r['MaintOrdBasicStartDateTime']),
    combineSapDateTime(r['MaintOrdBasicStartDate'], r['MaintOrdBasicStartTime'], zone),
    combineSapDateTime(r['ScheduledBasicStartDate'], r['ScheduledBasicStartTime'], zone),
  );
  const validFrom = start !== undefined ? iso(start) : changedAt;
  let validTo: string | null = null;
  if (status === 'completed' || status === 'closed') {
    const reference = firstInstant(parseODataDate(r['MaintOrderReferenceDateTime']), combineSapDateTime(r['MaintOrderReferenceDate'], r['MaintOrderReferenceTime'], zone));
    const endMs = reference ?? Date.parse(changedAt);
    // A reference date before the basic start (completed ahead of plan) would make an empty interval.
    validTo = iso(Math.max(endMs, Date.parse(validFrom)));
  }
  const basicEnd = firstInstant(parseODataDate(r['MaintOrdBasicEndDateTime']), combineSapDateTime(r['MaintOrdBasicEndDate'], r['MaintOrdBasicEndTime'], zone));
  const description = text(r['MaintenanceOrderDesc']);
  return {
    kind: 'upsert',
    id,
    value: {
      id,
      assetId,
      type: text(r['MaintenanceOrderType']) ?? 'unknown',
      status,
      ...(description ? { description } : {}),
      validFrom,
      validTo,
      changedAt,
      origin: 'sap:API_MAINTENANCEORDER',
      attributes: compact({
        sapObject: 'MaintenanceOrder',
        systemStatus,
        userStatus: text(r['UserStatusText']),
        activityType: text(r['MaintenanceActivityType']),
        priority: text(r['MaintPriority']),
        plant,
        workCenter: text(r['MainWorkCenter']),
        notification: text(r['MaintenanceNotification']),
        costCenter: text(r['CostCenter']),
        equipment: text(r['Equipment']),
        functionalLocation: text(r['FunctionalLocation']),
        basicEnd: basicEnd !== undefined ? iso(basicEnd) : undefined,
      }),
    },
  };
}

/**
 * Status of a production order from the A_ProductionOrder_2 flags: closed,
 * technically completed / delivered / finally confirmed = completed, partially
 * confirmed or delivered = in progress, released, else created.
 */
export function productionOrderStatus(r: SapRecord): OrderStatus {
  const f = (name: string): boolean => parseODataBoolean(r[name]);
  if (f('OrderIsClosed')) return 'closed';
  if (f('OrderIsTechnicallyCompleted') || f('OrderIsDelivered') || f('OrderIsConfirmed')) return 'completed';
  if (f('OrderIsPartiallyConfirmed') || f('OrderIsPartiallyDelivered')) return 'in-progress';
  if (f('OrderIsReleased') || f('OrderIsPartiallyReleased')) return 'released';
  return 'created';
}

/** The work center of the first operation of an order read with `$expand=to_ProductionOrderOperation`. */
export function firstOperationWorkCenter(r: SapRecord): string | undefined {
  const nav = r['to_ProductionOrderOperation'] as { results?: unknown } | unknown[] | undefined;
  const ops = Array.isArray(nav) ? nav : Array.isArray((nav as { results?: unknown } | undefined)?.results) ? ((nav as { results: unknown[] }).results) : [];
  const sorted = ops
    .filter((op): op is SapRecord => op !== null && typeof op === 'object')
    .filter((op) => text(op['WorkCenter']) !== undefined)
    .sort((a, b) => (text(a['ManufacturingOrderSequence']) ?? '').localeCompare(text(b['ManufacturingOrderSequence']) ?? '') || (text(a['ManufacturingOrderOperation']) ?? '').localeCompare(text(b['ManufacturingOrderOperation']) ?? ''));
  return sorted[0] ? text(sorted[0]['WorkCenter']) : undefined;
}

/**
 * A production order (API_PRODUCTION_ORDER_2_SRV, A_ProductionOrder_2) as a
 * production order message: ManufacturingOrder, Material, TotalQuantity in
 * ProductionUnit; asset by the first operation's work center, else by plant;
 * valid from the actual start (when the release has the actual fields) or the
 * scheduled start, to the actual or confirmed end once completed, open before.
 * A deleted or deletion-flagged order is a tombstone.
 */
export function mapProductionOrder(r: SapRecord, o: SapMappingOptions): Mapped<ErpProductionOrderV1> {
  const id = text(r['ManufacturingOrder']);
  if (!id) return { kind: 'error', reason: 'no ManufacturingOrder' };
  if (parseODataBoolean(r['OrderIsDeleted']) || parseODataBoolean(r['OrderIsMarkedForDeletion'])) {
    return { kind: 'delete', id, reason: parseODataBoolean(r['OrderIsDeleted']) ? 'OrderIsDeleted' : 'OrderIsMarkedForDeletion' };
  }
  const changedAt = lastChange(r);
  if (!changedAt) return { kind: 'error', id, reason: 'no LastChangeDateTime' };
  const material = text(r['Material']);
  if (!material) return { kind: 'error', id, reason: 'no Material' };
  const quantity = parseODataDecimal(r['TotalQuantity']);
  if (quantity === undefined || quantity < 0) return { kind: 'error', id, reason: `TotalQuantity ${JSON.stringify(r['TotalQuantity'])} is not a non-negative number` };
  const plant = text(r['ProductionPlant']) ?? text(r['Plant']);
  const workCenter = firstOperationWorkCenter(r);
  const assetId = (workCenter !== undefined ? (o.assetByWorkCenter[workCenter] ?? workCenter) : undefined) ?? (plant !== undefined ? (o.assetByPlant[plant] ?? plant) : undefined);
  if (!assetId) return { kind: 'error', id, reason: 'no work center or plant to attach the order to' };
  const zone = zoneOf(o, plant);
  const status = productionOrderStatus(r);
  const at = (date: string, time: string): number | undefined => combineSapDateTime(r[date], r[time], zone);
  const actualStart = at('MfgOrderActualStartDate', 'MfgOrderActualStartTime');
  const scheduledStart = at('MfgOrderScheduledStartDate', 'MfgOrderScheduledStartTime');
  const scheduledEnd = at('MfgOrderScheduledEndDate', 'MfgOrderScheduledEndTime');
  const plannedStart = at('MfgOrderPlannedStartDate', 'MfgOrderPlannedStartTime');
  const start = firstInstant(actualStart, scheduledStart, plannedStart);
  const validFrom = start !== undefined ? iso(start) : changedAt;
  let validTo: string | null = null;
  if (status === 'completed' || status === 'closed') {
    const end = firstInstant(at('MfgOrderActualEndDate', 'MfgOrderActualEndTime'), at('MfgOrderConfirmedEndDate', 'MfgOrderConfirmedEndTime'), scheduledEnd) ?? Date.parse(changedAt);
    validTo = iso(Math.max(end, Date.parse(validFrom)));
  }
  const fromField = o.idealCycleTimeField ? parseODataDecimal(r[o.idealCycleTimeField]) : undefined;
  const idealCycleTimeS = fromField !== undefined && fromField > 0 ? fromField : (o.idealCycleTimeS[`${material}@${assetId}`] ?? o.idealCycleTimeS[material]);
  const unit = text(r['ProductionUnit']);
  const materialDescription = text(r['MaterialName']) ?? text(r['ProductDescription']);
  return {
    kind: 'upsert',
    id,
    value: {
      id,
      assetId,
      material,
      ...(materialDescription ? { materialDescription } : {}),
      plannedQuantity: quantity,
      ...(unit ? { unit } : {}),
      ...(idealCycleTimeS !== undefined && idealCycleTimeS > 0 ? { idealCycleTimeS } : {}),
      status,
      validFrom,
      validTo,
      changedAt,
      origin: 'sap:API_PRODUCTION_ORDER_2_SRV',
      attributes: compact({
        sapObject: 'ProductionOrder',
        orderType: text(r['ManufacturingOrderType']),
        plant,
        workCenter,
        productionVersion: text(r['ProductionVersion']),
        mrpController: text(r['MRPController']),
        productionSupervisor: text(r['ProductionSupervisor']),
        scheduledStart: scheduledStart !== undefined ? iso(scheduledStart) : undefined,
        scheduledEnd: scheduledEnd !== undefined ? iso(scheduledEnd) : undefined,
        confirmedYieldQuantity: parseODataDecimal(r['MfgOrderConfirmedYieldQty']),
        plannedScrapQuantity: parseODataDecimal(r['MfgOrderPlannedScrapQty']),
      }),
    },
  };
}
