import type { JsonValue } from '@weir/contracts';
import { StatusCodes } from '@weir/domain';
import type { CsvSourceSettings } from '../config';
import type { SourceSample } from '../core/source';

/**
 * Splits one line into fields: RFC 4180 quoting (`"a,b"`, `""` for a quote),
 * surrounding spaces of unquoted fields kept. Returns a string (the problem)
 * for an unterminated quote; a field cannot span lines.
 */
export function splitLine(line: string, delimiter: string): string[] | string {
  if (line.indexOf('"') < 0) return line.split(delimiter);
  const out: string[] = [];
  let i = 0;
  const n = line.length;
  for (;;) {
    if (line[i] === '"') {
      let value = '';
      let j = i + 1;
      for (;;) {
        const q = line.indexOf('"', j);
        if (q < 0) return `unterminated quote in field ${out.length + 1}`;
        value += line.slice(j, q);
        if (line[q + 1] === '"') {
          value += '"';
          j = q + 2;
          continue;
        }
        j = q + 1;
        break;
      }
      if (j < n && line[j] !== delimiter) return `text after the closing quote of field ${out.length + 1}`;
      out.push(value);
      if (j >= n) return out;
      i = j + 1;
    } else {
      const d = line.indexOf(delimiter, i);
      if (d < 0) {
        out.push(line.slice(i));
        return out;
      }
      out.push(line.slice(i, d));
      i = d + 1;
    }
  }
}

/** Offset (ms) of `timeZone` from UTC at the instant `utcMs`. */
function zoneOffsetAt(fmt: Intl.DateTimeFormat, utcMs: number): number {
  const parts = fmt.formatToParts(new Date(utcMs));
  const get = (type: string): number => Number(parts.find((p) => p.type === type)?.value);
  const hour = get('hour') % 24;
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), hour, get('minute'), get('second'));
  return asUtc - Math.floor(utcMs / 1000) * 1000;
}

/**
 * Converts wall-clock times of an IANA zone to UTC. Offsets are looked up
 * once per quarter hour of wall time (every real offset is a multiple of
 * 15 min, and transitions fall on quarter hours), so a million rows cost a
 * few thousand Intl calls. In the hour repeated when clocks go back the
 * earlier instant is taken; a time skipped when they go forward is moved by
 * the offset change, as most historians do.
 */
export class ZoneConverter {
  private readonly fmt: Intl.DateTimeFormat | undefined;
  private readonly cache = new Map<number, number>();

  constructor(timeZone: string) {
    this.fmt = timeZone === 'UTC' || timeZone === 'Etc/UTC' ? undefined : new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
  }

  /** UTC ms of wall time `wallMs` (the wall time's fields read as if UTC). */
  toUtc(wallMs: number): number {
    if (!this.fmt) return wallMs;
    const bucket = Math.floor(wallMs / 900_000);
    let offset = this.cache.get(bucket);
    if (offset === undefined) {
      // Two rounds settle on the offset valid at the result (earlier instant in an overlap).
      const first = zoneOffsetAt(this.fmt, bucket * 900_000 - 3 * 3_600_000);
      offset = zoneOffsetAt(this.fmt, bucket * 900_000 - first);
      const again = zoneOffsetAt(this.fmt, bucket * 900_000 - offset);
      if (again !== offset) offset = Math.max(again, offset);
      if (this.cache.size > 100_000) this.cache.clear();
      this.cache.set(bucket, offset);
    }
    return wallMs - offset;
  }
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*(Z|[+-]\d{2}:?\d{2})?$/;

/**
 * A parser of the time column: `iso` (offset optional; without one the zone
 * applies), `epoch-s`, `epoch-ms`, or a pattern of `YYYY MM DD HH mm ss SSS`
 * with any other characters literal (`DD.MM.YYYY HH:mm:ss`). Returns ms since
 * 1970 or undefined.
 */
export function timeParser(format: string, timeZone: string): (text: string) => number | undefined {
  const zone = new ZoneConverter(timeZone);
  if (format === 'epoch-ms' || format === 'epoch-s') {
    const scale = format === 'epoch-s' ? 1000 : 1;
    return (text) => {
      const t = text.trim();
      if (t === '' || !/^-?\d+(\.\d+)?$/.test(t)) return undefined;
      return Math.round(Number(t) * scale);
    };
  }
  const fromFields = (y: number, mo: number, d: number, h: number, mi: number, s: number, frac: string | undefined, offset: string | undefined): number | undefined => {
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return undefined;
    const ms = frac ? Math.floor(Number(`0.${frac}`) * 1000 + 1e-6) : 0;
    const wall = Date.UTC(y, mo - 1, d, h, mi, s, ms);
    // Date.UTC rolls 31 February over into March: refuse instead.
    if (new Date(wall).getUTCDate() !== d) return undefined;
    if (offset === undefined) return zone.toUtc(wall);
    if (offset === 'Z') return wall;
    const m = /^([+-])(\d{2}):?(\d{2})$/.exec(offset)!;
    const off = (Number(m[2]) * 60 + Number(m[3])) * 60_000 * (m[1] === '-' ? -1 : 1);
    return wall - off;
  };
  if (format === 'iso') {
    return (text) => {
      const m = ISO.exec(text.trim());
      if (!m) return undefined;
      return fromFields(Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0), m[7], m[8]);
    };
  }
  // A pattern: tokens become capture groups, everything else is literal.
  const order: string[] = [];
  const source = format.replace(/YYYY|MM|DD|HH|mm|ss|SSS|[.*+?^${}()|[\]\\]/g, (tok) => {
    switch (tok) {
      case 'YYYY':
        order.push(tok);
        return '(\\d{4})';
      case 'SSS':
        order.push(tok);
        return '(\\d{1,9})';
      case 'MM':
      case 'DD':
      case 'HH':
      case 'mm':
      case 'ss':
        order.push(tok);
        return '(\\d{1,2})';
      default:
        return `\\${tok}`;
    }
  });
  const re = new RegExp(`^${source}\\s*(Z|[+-]\\d{2}:?\\d{2})?$`);
  return (text) => {
    const m = re.exec(text.trim());
    if (!m) return undefined;
    const v: Record<string, string> = {};
    order.forEach((tok, i) => (v[tok] = m[i + 1]!));
    return fromFields(Number(v['YYYY']), Number(v['MM'] ?? 1), Number(v['DD'] ?? 1), Number(v['HH'] ?? 0), Number(v['mm'] ?? 0), Number(v['ss'] ?? 0), v['SSS'], m[order.length + 1]);
  };
}

/** A parser of numbers with the declared separators (`1.234,5` with `,` decimal and `.` thousands); undefined when not a number. */
export function numberParser(decimal: '.' | ',', thousands: string): (text: string) => number | undefined {
  const plain = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
  return (text) => {
    let t = text.trim();
    if (t === '') return undefined;
    if (thousands !== '') t = t.split(thousands).join('');
    if (decimal === ',') t = t.replace(',', '.');
    if (!plain.test(t)) return undefined;
    const n = Number(t);
    return Number.isFinite(n) ? n : undefined;
  };
}

const QUALITY_TEXT: Record<string, number> = {
  good: StatusCodes.Good,
  ok: StatusCodes.Good,
  uncertain: StatusCodes.Uncertain,
  questionable: StatusCodes.Uncertain,
  substituted: StatusCodes.UncertainSubstituteValue,
  bad: StatusCodes.Bad,
  'no data': StatusCodes.BadNoData,
  'comm fail': StatusCodes.BadNoCommunication,
};

/**
 * A parser of quality cells: empty = Good; the configured map first; then
 * texts (good, uncertain, questionable, substituted, bad, ...); numbers 0–255
 * as OPC DA quality (the top two bits: 192+ Good, 64–127 Uncertain, below
 * 64 Bad, as exported by most historians); larger numbers (or `0x…`) as an
 * OPC UA StatusCode. Undefined = not a quality.
 */
export function qualityParser(map: Readonly<Record<string, number>>): (text: string) => number | undefined {
  const custom = new Map(Object.entries(map).map(([k, v]) => [k.trim().toLowerCase(), v >>> 0]));
  return (text) => {
    const t = text.trim().toLowerCase();
    if (t === '') return StatusCodes.Good;
    const c = custom.get(t);
    if (c !== undefined) return c;
    const named = QUALITY_TEXT[t];
    if (named !== undefined) return named;
    const n = /^0x[0-9a-f]{1,8}$/.test(t) ? parseInt(t, 16) : /^\d+$/.test(t) ? Number(t) : NaN;
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) return undefined;
    if (n > 255 || t.startsWith('0x')) return n >>> 0;
    const severity = n & 0xc0;
    if (severity === 0xc0) return StatusCodes.Good;
    if (severity === 0x40) return StatusCodes.Uncertain;
    return StatusCodes.Bad;
  };
}

/** What one data line gave: samples, or why it is bad. */
export type RowResult = { ok: true; samples: SourceSample[]; time: number; problems?: string[] } | { ok: false; problem: string };

/**
 * Maps the rows of one file, given its header, to samples: tall (one value
 * per row) or wide (one column per tag, empty cells skipped). Throws (the
 * message) when the header lacks a needed column.
 */
export function rowMapper(settings: CsvSourceSettings, header: readonly string[]): (fields: readonly string[]) => RowResult {
  const names = header.map((h) => h.trim());
  const col = (name: string): number => names.indexOf(name);
  const parseTime = timeParser(settings.timeFormat, settings.timeZone);
  const parseNumber = numberParser(settings.decimalSeparator, settings.thousandsSeparator);
  const parseQuality = qualityParser(settings.qualityMap);
  const parseValue = (text: string): { value: JsonValue; dataType: string } | undefined => {
    const n = parseNumber(text);
    if (n !== undefined) return { value: n, dataType: 'Double' };
    if (settings.valueType === 'number') return undefined;
    const t = text.trim();
    if (/^(true|false)$/i.test(t)) return { value: t.toLowerCase() === 'true', dataType: 'Boolean' };
    return { value: text, dataType: 'String' };
  };
  const timeCol = col(settings.columns.time);
  if (timeCol < 0) throw new Error(`no time column "${settings.columns.time}" in the header (${names.join(', ')})`);
  const width = names.length;
  const prefix = settings.tagPrefix;

  if (settings.layout === 'tall') {
    const tagCol = col(settings.columns.tag);
    const valueCol = col(settings.columns.value);
    const qualityCol = col(settings.columns.quality);
    if (tagCol < 0) throw new Error(`no tag column "${settings.columns.tag}" in the header (${names.join(', ')})`);
    if (valueCol < 0) throw new Error(`no value column "${settings.columns.value}" in the header (${names.join(', ')})`);
    return (fields) => {
      if (fields.length !== width) return { ok: false, problem: `${fields.length} fields, the header has ${width}` };
      const tag = fields[tagCol]!.trim();
      if (tag === '') return { ok: false, problem: 'empty tag' };
      const timeText = fields[timeCol]!;
      const time = parseTime(timeText);
      if (time === undefined) return { ok: false, problem: `time "${timeText}" does not match ${settings.timeFormat}` };
      const status = qualityCol >= 0 ? parseQuality(fields[qualityCol]!) : StatusCodes.Good;
      if (status === undefined) return { ok: false, problem: `unknown quality "${fields[qualityCol]!}"` };
      const valueText = fields[valueCol]!;
      let v = parseValue(valueText);
      if (v === undefined) {
        // A Bad value without a number is still worth carrying (as null): it says the source had no data.
        if (status >= 0x80000000 && valueText.trim() === '') v = { value: null, dataType: 'Null' };
        else return { ok: false, problem: `value "${valueText}" is not a number` };
      }
      return { ok: true, time, samples: [{ nodeId: prefix + tag, value: v.value, dataType: v.dataType, status, sourceTime: new Date(time).toISOString() }] };
    };
  }

  const suffix = settings.qualitySuffix;
  const tagCols: Array<{ index: number; nodeId: string; quality: number }> = [];
  names.forEach((name, index) => {
    if (index === timeCol || name === '' || name.endsWith(suffix)) return;
    tagCols.push({ index, nodeId: prefix + name, quality: col(name + suffix) });
  });
  if (tagCols.length === 0) throw new Error('no tag columns besides the time column');
  return (fields) => {
    if (fields.length !== width) return { ok: false, problem: `${fields.length} fields, the header has ${width}` };
    const timeText = fields[timeCol]!;
    const time = parseTime(timeText);
    if (time === undefined) return { ok: false, problem: `time "${timeText}" does not match ${settings.timeFormat}` };
    const sourceTime = new Date(time).toISOString();
    const samples: SourceSample[] = [];
    let problems: string[] | undefined;
    // One bad cell costs that cell, not the row's other tags.
    for (const c of tagCols) {
      const text = fields[c.index]!;
      const status = c.quality >= 0 ? parseQuality(fields[c.quality]!) : StatusCodes.Good;
      if (status === undefined) {
        (problems ??= []).push(`unknown quality "${fields[c.quality]!}" for ${c.nodeId}`);
        continue;
      }
      if (text.trim() === '') continue;
      const v = parseValue(text);
      if (v === undefined) {
        (problems ??= []).push(`value "${text}" of ${c.nodeId} is not a number`);
        continue;
      }
      samples.push({ nodeId: c.nodeId, value: v.value, dataType: v.dataType, status, sourceTime });
    }
    return problems ? { ok: true, time, samples, problems } : { ok: true, time, samples };
  };
}
