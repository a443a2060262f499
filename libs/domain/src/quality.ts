/** Severity of an OPC UA StatusCode (Part 4, 7.39): the top two bits. */
export type QualityClass = 'good' | 'uncertain' | 'bad';

/** Classifies a 32-bit OPC UA StatusCode; 0x80000000..0xBFFFFFFF is Bad, 0x40000000.. Uncertain. */
export function qualityClass(status: number): QualityClass {
  const severity = (status >>> 30) & 0b11;
  if (severity === 0) return 'good';
  if (severity === 1) return 'uncertain';
  return 'bad';
}

/** True when a value may be used in KPIs: only Good counts, Uncertain and Bad are excluded and reported. */
export function isUsableForKpi(status: number): boolean {
  return qualityClass(status) === 'good';
}

/** Well-known StatusCodes used where a source's quality must be expressed in OPC UA terms. */
export const StatusCodes = {
  Good: 0x00000000,
  GoodLocalOverride: 0x00960000,
  Uncertain: 0x40000000,
  UncertainLastUsableValue: 0x40900000,
  UncertainSubstituteValue: 0x40910000,
  UncertainSensorNotAccurate: 0x40930000,
  Bad: 0x80000000,
  BadNoCommunication: 0x80310000,
  BadSensorFailure: 0x808b0000,
  BadNoData: 0x809b0000,
  BadDataLost: 0x809d0000,
  BadOutOfService: 0x808d0000,
} as const;

/** The name of a well-known StatusCode, or its hex form. */
export function statusName(status: number): string {
  for (const [name, code] of Object.entries(StatusCodes)) if (code === status >>> 0) return name;
  return `0x${(status >>> 0).toString(16).padStart(8, '0').toUpperCase()}`;
}
