import { wallClockAt, wallClockToInstant } from '../shifts/time-zone';

// OData v2 JSON ("verbose" JSON of SAP Gateway) writes Edm.DateTime and
// Edm.DateTimeOffset as "/Date(<ms since epoch>[+|-<offset minutes>])/"; the
// milliseconds are UTC already and the offset only says which zone the value was
// written in. Edm.Time is an ISO 8601 duration since midnight ("PT06H30M00S").
const DATE_PATTERN = /^\/Date\((-?\d+)(?:([+-])(\d{1,4}))?\)\/$/;
const TIME_PATTERN = /^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?$/;

/** SAP's "no end" date, 9999-12-31, as Edm.DateTime milliseconds. */
export const SAP_MAX_DATE_MS = Date.UTC(9999, 11, 31);

/**
 * Epoch milliseconds of an OData v2 date (`/Date(1700000000000+0000)/`,
 * `/Date(1700000000000)/`), or of an ISO 8601 string some gateways send;
 * undefined for null, empty or anything else.
 */
export function parseODataDate(value: unknown): number | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  const m = DATE_PATTERN.exec(value);
  if (m) {
    const ms = Number(m[1]);
    return Number.isSafeInteger(ms) ? ms : undefined;
  }
  // Offset required: a bare local time would be read in this process's zone.
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/.test(value)) {
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
}

/** An OData v2 date as ISO 8601 UTC (`2023-11-14T22:13:20.000Z`), or undefined. */
export function odataDateToIso(value: unknown): string | undefined {
  const ms = parseODataDate(value);
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

/** Milliseconds since midnight of an Edm.Time (`PT14H30M00S`), or undefined. */
export function parseODataTime(value: unknown): number | undefined {
  if (typeof value !== 'string' || value === '' || value === 'PT') return undefined;
  const m = TIME_PATTERN.exec(value);
  if (!m) return undefined;
  return (Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0)) * 1000;
}

/**
 * The instant of an SAP date field (Edm.DateTime at UTC midnight of the calendar
 * date) plus an optional time field (Edm.Time), read as wall-clock time of the
 * plant's zone: SAP keeps DATS/TIMS fields in local time, not UTC.
 */
export function combineSapDateTime(date: unknown, time: unknown, timeZone: string): number | undefined {
  const day = parseODataDate(date);
  if (day === undefined) return undefined;
  const d = new Date(day);
  const t = parseODataTime(time) ?? 0;
  const totalSeconds = Math.floor(t / 1000);
  // 24:00:00 is a valid SAP end time; let Date.UTC roll it into the next day.
  const normalised = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), 0, 0, totalSeconds));
  const w = wallClockAt('UTC', normalised.getTime());
  return wallClockToInstant(timeZone, w);
}

/** An Edm.Decimal (a JSON string in OData v2) or number as a finite number, or undefined. */
export function parseODataDecimal(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

/** An Edm.Boolean, also the ABAP checkbox forms `X` / `` some services send. */
export function parseODataBoolean(value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') return value === 'X' || value.toLowerCase() === 'true';
  return false;
}

/** A string field, trimmed; undefined for null, non-strings and empty strings. */
export function text(value: unknown): string | undefined {
  if (typeof value === 'number') return String(value);
  if (typeof value !== 'string') return undefined;
  const t = value.trim();
  return t === '' ? undefined : t;
}

/**
 * The `$filter` literal of an Edm.DateTimeOffset (`datetimeoffset'2023-11-14T22:13:20Z'`),
 * to whole seconds (SAP change timestamps have second resolution; sub-second
 * literals are refused by some gateways).
 */
export function dateTimeOffsetLiteral(iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new Error(`not an ISO 8601 time: ${iso}`);
  return `datetimeoffset'${new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z')}'`;
}

/** Writes epoch milliseconds in the OData v2 JSON form with a `+0000` offset (test servers, fixtures). */
export function formatODataDate(ms: number): string {
  return `/Date(${ms}+0000)/`;
}
