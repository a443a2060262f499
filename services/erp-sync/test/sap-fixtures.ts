// SAP OData v2 records as the S/4HANA APIs return them (field names and value
// forms of API_FUNCTIONALLOCATION, API_EQUIPMENT, API_MAINTENANCEORDER and
// API_PRODUCTION_ORDER_2_SRV): dates as /Date(ms)/, DateTimeOffset as
// /Date(ms+0000)/, times as PT..H..M..S, decimals as strings.
import { formatODataDate } from '../src/sap/odata-values';

/** A record of an entity set. */
export type Row = Record<string, unknown>;

const day = (iso: string): string => `/Date(${Date.parse(`${iso}T00:00:00Z`)})/`;
const metadata = (service: string, type: string, key: string): Row => ({ __metadata: { id: `https://s4.example.com/sap/opu/odata/sap/${service}/${key}`, uri: `https://s4.example.com/sap/opu/odata/sap/${service}/${key}`, type: `${service}.${type}` } });

/** A functional location changed at `changedMs`. */
export function functionalLocation(id: string, superior: string | null, changedMs: number, extra: Row = {}): Row {
  return {
    ...metadata('API_FUNCTIONALLOCATION', 'FunctionalLocationType', `FunctionalLocation('${id}')`),
    FunctionalLocation: id,
    FunctionalLocationLabelName: id,
    FunctionalLocationName: `Location ${id}`,
    FuncLocationStructure: 'YB-STR',
    FunctionalLocationCategory: 'M',
    SuperiorFunctionalLocation: superior ?? '',
    TechnicalObjectType: '',
    MaintenancePlant: '1710',
    MaintenancePlanningPlant: '1710',
    CompanyCode: '1710',
    CostCenter: '17101301',
    ControllingArea: 'A000',
    MainWorkCenter: 'RES-0300',
    CreationDate: day('2017-04-13'),
    LastChangeDateTime: formatODataDate(changedMs),
    FuncnlLocIsMarkedForDeletion: false,
    FuncnlLocIsDeleted: false,
    FunctionalLocationIsActive: true,
    FuncnlLocIsDeactivated: false,
    ...extra,
  };
}

/** An equipment installed at a functional location (or under another equipment). */
export function equipment(id: string, location: string, changedMs: number, extra: Row = {}): Row {
  return {
    ...metadata('API_EQUIPMENT', 'EquipmentType', `Equipment(Equipment='${id}',ValidityEndDate=datetime'9999-12-31T00%3A00%3A00')`),
    Equipment: id,
    ValidityEndDate: '/Date(253402214400000)/',
    ValidityEndTime: 'PT23H59M59S',
    ValidityStartDate: day('2017-04-13'),
    EquipmentName: `Equipment ${id}`,
    EquipmentCategory: 'M',
    TechnicalObjectType: '9500',
    MaintenancePlant: '1710',
    MaintenancePlanningPlant: '1710',
    CostCenter: '17101302',
    MainWorkCenter: 'RES-0300',
    FunctionalLocation: location,
    SuperordinateEquipment: '',
    AssetManufacturerName: 'Krones',
    ManufacturerPartTypeName: 'Modulfill HRS',
    ManufacturerSerialNumber: 'K-4711',
    Material: '',
    CreationDate: day('2017-04-13'),
    LastChangeDateTime: formatODataDate(changedMs),
    EquipmentIsMarkedForDeletion: false,
    EquipmentIsInactive: false,
    EquipmentIsInstalled: true,
    ...extra,
  };
}

/** A maintenance order on an equipment. */
export function maintenanceOrder(id: string, equipmentId: string, changedMs: number, extra: Row = {}): Row {
  return {
    ...metadata('API_MAINTENANCEORDER', 'MaintenanceOrderType', `MaintenanceOrder('${id}')`),
    MaintenanceOrder: id,
    MaintenanceOrderType: 'YBA1',
    MaintenanceOrderDesc: `Replace valve ${id}`,
    MaintOrdBasicStartDateTime: null,
    MaintOrdBasicEndDateTime: null,
    MaintOrdBasicStartDate: day('2026-11-25'),
    MaintOrdBasicStartTime: 'PT07H00M00S',
    MaintOrdBasicEndDate: day('2026-11-25'),
    MaintOrdBasicEndTime: 'PT15H00M00S',
    MaintOrderReferenceDateTime: null,
    MaintOrderReferenceDate: null,
    MaintOrderReferenceTime: 'PT00H00M00S',
    MaintenancePlanningPlant: '1710',
    MaintenancePlant: '1710',
    MainWorkCenter: 'RES-0300',
    Equipment: equipmentId,
    FunctionalLocation: '',
    MaintenanceActivityType: 'YB1',
    MaintPriority: '2',
    CostCenter: '17101301',
    MaintenanceNotification: '10000002',
    SystemStatusText: 'REL  MANC NMAT PRC  SETC',
    UserStatusText: '',
    LastChangeDateTime: formatODataDate(changedMs),
    ...extra,
  };
}

/** A production order with its operations expanded. */
export function productionOrder(id: string, workCenter: string, changedMs: number, extra: Row = {}): Row {
  return {
    ...metadata('API_PRODUCTION_ORDER_2_SRV', 'A_ProductionOrder_2Type', `A_ProductionOrder_2('${id}')`),
    ManufacturingOrder: id,
    ManufacturingOrderCategory: '10',
    ManufacturingOrderType: 'YBM1',
    OrderIsCreated: true,
    OrderIsReleased: true,
    OrderIsPrinted: false,
    OrderIsConfirmed: false,
    OrderIsPartiallyConfirmed: false,
    OrderIsDelivered: false,
    OrderIsDeleted: false,
    OrderIsTechnicallyCompleted: false,
    OrderIsClosed: false,
    OrderIsPartiallyDelivered: false,
    OrderIsMarkedForDeletion: false,
    LastChangeDateTime: formatODataDate(changedMs),
    Material: 'FG-330',
    ProductionPlant: '1710',
    Plant: '1710',
    MRPController: '001',
    ProductionSupervisor: '001',
    ProductionVersion: '0001',
    MfgOrderPlannedStartDate: day('2026-11-25'),
    MfgOrderPlannedStartTime: 'PT06H00M00S',
    MfgOrderPlannedEndDate: day('2026-11-25'),
    MfgOrderPlannedEndTime: 'PT14H00M00S',
    MfgOrderScheduledStartDate: day('2026-11-25'),
    MfgOrderScheduledStartTime: 'PT06H00M00S',
    MfgOrderScheduledEndDate: day('2026-11-25'),
    MfgOrderScheduledEndTime: 'PT14H00M00S',
    MfgOrderActualReleaseDate: day('2026-11-24'),
    ProductionUnit: 'PC',
    TotalQuantity: '12000',
    MfgOrderPlannedScrapQty: '0',
    MfgOrderConfirmedYieldQty: '0',
    to_ProductionOrderOperation: {
      results: [
        { ManufacturingOrder: id, ManufacturingOrderSequence: '0', ManufacturingOrderOperation: '0020', WorkCenter: 'PACK-QC' },
        { ManufacturingOrder: id, ManufacturingOrderSequence: '0', ManufacturingOrderOperation: '0010', WorkCenter: workCenter },
      ],
    },
    ...extra,
  };
}
