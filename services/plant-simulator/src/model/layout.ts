/** The size of the simulated plant: an ISA-95 tree of sites, areas, lines and machines. */
export interface PlantShape {
  /** Browse name of the top object under Objects (the ISA-95 enterprise). */
  enterprise: string;
  sites: number;
  areasPerSite: number;
  linesPerArea: number;
  machinesPerLine: number;
  /** Generic process values (`Tag001`, ...) per machine on top of the standard machine tags. */
  extraTagsPerMachine: number;
}

/** A small plant: 1 site, 1 area, 2 lines of 3 machines, the standard tags only (72 tags). */
export const DEFAULT_SHAPE: PlantShape = { enterprise: 'Plant', sites: 1, areasPerSite: 1, linesPerArea: 2, machinesPerLine: 3, extraTagsPerMachine: 0 };

/** What a tag is; decides how its value is computed. */
export type TagKind =
  | 'state'
  | 'downReason'
  | 'totalCount'
  | 'goodCount'
  | 'idealCycleTime'
  | 'temperature'
  | 'pressure'
  | 'speed'
  | 'energy'
  | 'speedSetpoint'
  | 'temperatureSetpoint'
  | 'mode'
  | 'extra';

/** OPC UA built-in type a tag is served as. */
export type TagDataType = 'Double' | 'String' | 'Int32' | 'UInt32';

/** The fixed description of one standard machine tag. */
export interface StandardTag {
  name: string;
  kind: TagKind;
  dataType: TagDataType;
  /** Written by clients (setpoints, Mode). */
  writable: boolean;
  /** Engineering unit symbol, for analog values. */
  unit?: string;
  description: string;
}

/** The tags every machine has, in browse order. */
export const STANDARD_TAGS: readonly StandardTag[] = [
  { name: 'State', kind: 'state', dataType: 'String', writable: false, description: 'running, idle or down' },
  { name: 'DownReason', kind: 'downReason', dataType: 'Int32', writable: false, description: 'reason code while idle or down (0 while running): 1xx planned, 2xx material, 3xx technical, 4xx quality' },
  { name: 'TotalCount', kind: 'totalCount', dataType: 'UInt32', writable: false, description: 'parts produced since the model epoch' },
  { name: 'GoodCount', kind: 'goodCount', dataType: 'UInt32', writable: false, description: 'good parts produced since the model epoch' },
  { name: 'IdealCycleTime', kind: 'idealCycleTime', dataType: 'Double', writable: false, unit: 's', description: 'ideal cycle time per part at nominal speed' },
  { name: 'Temperature', kind: 'temperature', dataType: 'Double', writable: false, unit: '°C', description: 'process temperature' },
  { name: 'Pressure', kind: 'pressure', dataType: 'Double', writable: false, unit: 'bar', description: 'process pressure (absolute)' },
  { name: 'Speed', kind: 'speed', dataType: 'Double', writable: false, unit: '1/min', description: 'machine speed (strokes or parts per minute)' },
  { name: 'EnergyMeter', kind: 'energy', dataType: 'Double', writable: false, unit: 'kWh', description: 'energy consumed since the model epoch' },
  { name: 'SpeedSetpoint', kind: 'speedSetpoint', dataType: 'Double', writable: true, unit: '1/min', description: 'speed setpoint' },
  { name: 'TemperatureSetpoint', kind: 'temperatureSetpoint', dataType: 'Double', writable: true, unit: '°C', description: 'temperature setpoint' },
  { name: 'Mode', kind: 'mode', dataType: 'String', writable: true, description: 'operating mode: Run, Program or Maintenance' },
];

/** One machine's place in the ISA-95 tree. */
export interface MachinePlace {
  /** Dotted id, also the string NodeId identifier: `Site01.Area01.Line01.Machine01`. */
  id: string;
  index: number;
  site: string;
  area: string;
  line: string;
  machine: string;
}

function pad(prefix: string, i: number, count: number, minWidth = 2): string {
  return `${prefix}${String(i + 1).padStart(Math.max(minWidth, String(count).length), '0')}`;
}

/** The name of the n-th (0-based) extra tag of a machine: `Tag001`. */
export function extraTagName(i: number, count: number): string {
  return pad('Tag', i, count, 3);
}

/** Every machine of a plant, sites first, in browse order. */
export function machinePlaces(shape: PlantShape): MachinePlace[] {
  const out: MachinePlace[] = [];
  for (let s = 0; s < shape.sites; s++) {
    const site = pad('Site', s, shape.sites);
    for (let a = 0; a < shape.areasPerSite; a++) {
      const area = pad('Area', a, shape.areasPerSite);
      for (let l = 0; l < shape.linesPerArea; l++) {
        const line = pad('Line', l, shape.linesPerArea);
        for (let m = 0; m < shape.machinesPerLine; m++) {
          const machine = pad('Machine', m, shape.machinesPerLine);
          out.push({ id: `${site}.${area}.${line}.${machine}`, index: out.length, site, area, line, machine });
        }
      }
    }
  }
  return out;
}

/** Number of tags a shape gives. */
export function tagCount(shape: PlantShape): number {
  return shape.sites * shape.areasPerSite * shape.linesPerArea * shape.machinesPerLine * (STANDARD_TAGS.length + shape.extraTagsPerMachine);
}

/** Checks a shape; throws `MODEL.INVALID_SHAPE` naming the first bad field. */
export function validateShape(shape: PlantShape): void {
  for (const key of ['sites', 'areasPerSite', 'linesPerArea', 'machinesPerLine'] as const) {
    if (!Number.isInteger(shape[key]) || shape[key] < 1 || shape[key] > 999) throw new Error(`MODEL.INVALID_SHAPE: ${key} must be an integer from 1 to 999, got ${shape[key]}`);
  }
  if (!Number.isInteger(shape.extraTagsPerMachine) || shape.extraTagsPerMachine < 0 || shape.extraTagsPerMachine > 9999) {
    throw new Error(`MODEL.INVALID_SHAPE: extraTagsPerMachine must be an integer from 0 to 9999, got ${shape.extraTagsPerMachine}`);
  }
  if (!/^[A-Za-z][A-Za-z0-9_-]*$/.test(shape.enterprise)) throw new Error(`MODEL.INVALID_SHAPE: enterprise must be a simple name (letters, digits, _ and -), got "${shape.enterprise}"`);
}
