import { DataType, makeEUInformation, standardUnits, type AddressSpace, type EUInformation, type Namespace, type UAEventType, type UAExclusiveLimitAlarmEx, type UAObject, type UAObjectType, type UAVariable } from 'node-opcua';
import type { PlantModel, TagInfo } from '../model/plant-model';
import type { TagDataType } from '../model/layout';

/** URI of the namespace the plant lives in; NodeIds are `nsu=urn:weir:plant-simulator:plant;s=<site>.<area>.<line>.<machine>.<Tag>`. */
export const PLANT_NAMESPACE_URI = 'urn:weir:plant-simulator:plant';

/** The OPC UA built-in type of a model data type. */
export const DATA_TYPES: Record<TagDataType, DataType> = { Double: DataType.Double, String: DataType.String, Int32: DataType.Int32, UInt32: DataType.UInt32 };

const UNITS: Record<string, { eu: EUInformation; range: (tag: TagInfo) => { low: number; high: number } }> = {
  '°C': { eu: standardUnits.degree_celsius, range: () => ({ low: 0, high: 400 }) },
  bar: { eu: standardUnits.bar, range: () => ({ low: 0, high: 16 }) },
  '1/min': { eu: standardUnits.revolutions_per_minute, range: (t) => ({ low: 0, high: 2 * t.machine.params.speedNominal }) },
  kWh: { eu: makeEUInformation('KWH', 'kWh', 'kilowatt hour'), range: () => ({ low: 0, high: 1e12 }) },
  s: { eu: standardUnits.second, range: () => ({ low: 0, high: 600 }) },
};

/** What the builder made: the variables by tag id, the machine objects and the alarms. */
export interface PlantNodes {
  namespace: Namespace;
  namespaceIndex: number;
  variables: Map<string, UAVariable>;
  machineObjects: Map<string, UAObject>;
  alarms: Map<string, UAExclusiveLimitAlarmEx>;
}

/** Builds the ISA-95 tree: Objects/<enterprise>/<site>/<area>/<line>/<machine>/<Tag>, with a temperature alarm on the first `alarmMachines` machines. */
export function buildPlantNodes(addressSpace: AddressSpace, model: PlantModel, options: { alarmMachines: number }): PlantNodes {
  const namespace = addressSpace.registerNamespace(PLANT_NAMESPACE_URI);
  const namespaceIndex = namespace.index;
  const objects = addressSpace.rootFolder.objects;
  const server = objects.server;

  // One ObjectType per ISA-95 level, so clients can find machines by type.
  const type = (name: string): UAObjectType => namespace.addObjectType({ browseName: name, nodeId: `s=Types.${name}`, subtypeOf: 'BaseObjectType', eventNotifier: 1 });
  const types = { enterprise: type('EnterpriseType'), site: type('SiteType'), area: type('AreaType'), line: type('ProductionLineType'), machine: type('MachineType') };

  // Objects are linked twice: Organizes for the tree, HasNotifier/HasEventSource
  // up to the Server object so alarms and audit events of a machine reach
  // subscribers of the machine, its line, area, site, enterprise and Server.
  const enterprise = namespace.addObject({ organizedBy: objects, browseName: model.shape.enterprise, nodeId: `s=${model.shape.enterprise}`, typeDefinition: types.enterprise, eventNotifier: 1, notifierOf: server });
  const levels = new Map<string, UAObject>();
  const level = (id: string, name: string, parent: UAObject, t: UAObjectType): UAObject => {
    let node = levels.get(id);
    if (!node) {
      node = namespace.addObject({ organizedBy: parent, browseName: name, nodeId: `s=${id}`, typeDefinition: t, eventNotifier: 1, notifierOf: parent });
      levels.set(id, node);
    }
    return node;
  };

  const variables = new Map<string, UAVariable>();
  const machineObjects = new Map<string, UAObject>();
  const alarms = new Map<string, UAExclusiveLimitAlarmEx>();
  for (const m of model.machines) {
    const site = level(m.site, m.site, enterprise, types.site);
    const area = level(`${m.site}.${m.area}`, m.area, site, types.area);
    const line = level(`${m.site}.${m.area}.${m.line}`, m.line, area, types.line);
    const machine = namespace.addObject({ organizedBy: line, browseName: m.machine, nodeId: `s=${m.id}`, typeDefinition: types.machine, eventNotifier: 1, eventSourceOf: line });
    machineObjects.set(m.id, machine);
    for (const tag of m.tags) {
      const common = {
        componentOf: machine,
        browseName: tag.name,
        nodeId: `s=${tag.id}`,
        description: tag.description,
        dataType: DataType[DATA_TYPES[tag.dataType]],
        accessLevel: tag.writable ? 'CurrentRead | CurrentWrite | HistoryRead' : 'CurrentRead | HistoryRead',
        userAccessLevel: tag.writable ? 'CurrentRead | CurrentWrite | HistoryRead' : 'CurrentRead | HistoryRead',
        historizing: true,
        // 0 lets a client ask for exception-based monitoring: every tick's change is reported.
        minimumSamplingInterval: 0,
      } as const;
      const unit = tag.unit ? UNITS[tag.unit] : undefined;
      const variable = unit
        ? namespace.addAnalogDataItem({ ...common, engineeringUnits: unit.eu, engineeringUnitsRange: unit.range(tag) })
        : namespace.addVariable({ ...common });
      variables.set(tag.id, variable);
    }
    if (machineObjects.size <= options.alarmMachines) {
      const temperature = variables.get(`${m.id}.Temperature`)!;
      // No low limits: a stopped machine cools down, which is not an alarm.
      const alarmOptions = {
        componentOf: machine,
        conditionSource: machine,
        browseName: 'TemperatureAlarm',
        nodeId: `s=${m.id}.TemperatureAlarm`,
        conditionName: 'TemperatureAlarm',
        inputNode: temperature,
        highLimit: m.params.temperatureHigh,
        highHighLimit: m.params.temperatureHighHigh,
      };
      const alarm = namespace.instantiateExclusiveLimitAlarm('ExclusiveLimitAlarmType', alarmOptions as unknown as Parameters<Namespace['instantiateExclusiveLimitAlarm']>[1]);
      // SourceName defaults to the qualified browse name ("2:Machine01"); the dotted id is unique plant-wide.
      alarm.sourceName.setValueFromSource({ dataType: DataType.String, value: m.id });
      alarms.set(m.id, alarm);
    }
  }
  return { namespace, namespaceIndex, variables, machineObjects, alarms };
}

/**
 * Adds `WeirAuditWriteUpdateEventType`: the (abstract) AuditWriteUpdateEventType
 * plus who wrote — client address, session id and name, security policy — in
 * the plant namespace. ClientApplicationUri is inherited from AuditEventType.
 */
export function addAuditEventTypes(namespace: Namespace): UAEventType {
  const type = namespace.addEventType({ browseName: 'WeirAuditWriteUpdateEventType', subtypeOf: 'AuditWriteUpdateEventType' });
  for (const name of ['ClientAddress', 'SessionName', 'SecurityPolicyUri']) {
    namespace.addVariable({ propertyOf: type, browseName: name, dataType: 'String', modellingRule: 'Mandatory' });
  }
  namespace.addVariable({ propertyOf: type, browseName: 'SessionId', dataType: 'NodeId', modellingRule: 'Mandatory' });
  return type;
}
