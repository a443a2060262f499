import { erpAssetV1Schema, erpProductionOrderV1Schema, erpWorkOrderV1Schema, formatIssues, type JsonValue } from '@weir/contracts';
import type { z } from 'zod';
import type { AssetDraft } from '../assets/asset-draft';
import { formatInZone, wallClockToInstant } from '../shifts/time-zone';
import type { ChangeSet } from '../sync/change-set';
import { CsvSyntaxError, parseCsv } from './csv';

/** Kinds a file can carry, from its name: `assets*.csv`, `work-orders*.json`, `production-orders*.csv`. */
export type FileKind = 'assets' | 'workOrders' | 'productionOrders';

const PREFIXES: readonly [string, FileKind][] = [
  ['production-orders', 'productionOrders'],
  ['work-orders', 'workOrders'],
  ['assets', 'assets'],
];

/** The kind and format of a dropped file by its name, or undefined when the name says neither. */
export function classifyFile(name: string): { kind: FileKind; format: 'csv' | 'json' } | undefined {
  const lower = name.toLowerCase();
  const format = lower.endsWith('.csv') ? 'csv' : lower.endsWith('.json') ? 'json' : undefined;
  if (!format) return undefined;
  const kind = PREFIXES.find(([prefix]) => lower.startsWith(prefix))?.[1];
  return kind ? { kind, format } : undefined;
}

/** How file values are read. */
export interface FileParseOptions {
  /** Zone of date-times written without an offset (`2026-11-25 06:00`), as spreadsheets export them. */
  timeZone: string;
  /** `changedAt` of records that do not say (the file's modification time). */
  defaultChangedAt: string;
}

/** A file whose records were all valid. */
export interface ParsedFile {
  kind: FileKind;
  upserts: (AssetDraft | z.infer<typeof erpWorkOrderV1Schema> | z.infer<typeof erpProductionOrderV1Schema>)[];
  deletions: string[];
}

/** A file with errors; every error names the line (CSV) or the record and its line (JSON). */
export class FileInvalidError extends Error {
  constructor(
    readonly file: string,
    readonly problems: readonly string[],
  ) {
    super(`${file}: ${problems.length} problem(s): ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? `; and ${problems.length - 5} more` : ''}`);
    this.name = 'FileInvalidError';
  }
}

// A path is built from ids when absent; levels must be given in files (there is no tree depth rule for them).
const assetDraftSchema = erpAssetV1Schema.partial({ path: true });
const SCHEMAS: Record<FileKind, z.ZodType> = { assets: assetDraftSchema, workOrders: erpWorkOrderV1Schema, productionOrders: erpProductionOrderV1Schema };
const NUMBER_FIELDS = new Set(['plannedQuantity', 'idealCycleTimeS', 'plannedBreakMinutes']);
const TIME_FIELDS = new Set(['validFrom', 'validTo', 'changedAt']);
const LOCAL_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?$/;
const MAX_PROBLEMS = 50;

/** A time without an offset read in the file's zone; other text is left for the schema to judge. */
function normaliseTime(value: string, timeZone: string): string {
  const m = LOCAL_TIME.exec(value.trim());
  if (!m) return value.trim();
  const ms = wallClockToInstant(timeZone, { year: Number(m[1]), month: Number(m[2]), day: Number(m[3]), hour: Number(m[4] ?? 0), minute: Number(m[5] ?? 0), second: Number(m[6] ?? 0) });
  return formatInZone(timeZone, ms);
}

const TRUE = new Set(['true', '1', 'yes', 'x']);

/**
 * Turns one flat record (a CSV row, a JSON object) into a message candidate:
 * empty strings are absent, `attributes.<name>` columns go into attributes,
 * numbers and times are converted, `deleted=true` makes it a deletion.
 */
function normalise(raw: Record<string, unknown>, options: FileParseOptions): { deleted: boolean; id: unknown; candidate: Record<string, unknown> } {
  const candidate: Record<string, unknown> = {};
  const attributes: Record<string, JsonValue> = typeof raw['attributes'] === 'object' && raw['attributes'] !== null && !Array.isArray(raw['attributes']) ? { ...(raw['attributes'] as Record<string, JsonValue>) } : {};
  let deleted = false;
  for (const [key, value] of Object.entries(raw)) {
    if (key === 'attributes') continue;
    if (key === 'deleted') {
      deleted = value === true || (typeof value === 'string' && TRUE.has(value.trim().toLowerCase()));
      continue;
    }
    if (value === '' || value === undefined) continue;
    if (key.startsWith('attributes.')) {
      attributes[key.slice('attributes.'.length)] = value as JsonValue;
      continue;
    }
    if (typeof value === 'string' && NUMBER_FIELDS.has(key)) {
      // A decimal comma from a spreadsheet is read as a decimal point.
      const n = Number(value.trim().replace(',', '.'));
      candidate[key] = Number.isFinite(n) && value.trim() !== '' ? n : value;
      continue;
    }
    if (typeof value === 'string' && TIME_FIELDS.has(key)) {
      candidate[key] = normaliseTime(value, options.timeZone);
      continue;
    }
    candidate[key] = typeof value === 'string' ? value.trim() : value;
  }
  candidate['changedAt'] ??= options.defaultChangedAt;
  candidate['validFrom'] ??= candidate['changedAt'];
  if ('parentId' in raw && (raw['parentId'] === '' || raw['parentId'] === undefined)) candidate['parentId'] = null;
  candidate['attributes'] = attributes;
  return { deleted, id: candidate['id'], candidate };
}

/** Where a JSON array's elements start, by line, for error messages. */
function jsonElementLines(text: string): number[] {
  const lines: number[] = [];
  let line = 1;
  let depth = 0;
  let inString = false;
  // The records are the elements of the outermost array: the root, or the `records` array of a root object.
  let recordDepth: number | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\n') line++;
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '[' || c === '{') {
      depth++;
      if (c === '[' && recordDepth === undefined) recordDepth = depth + 1;
      else if (c === '{' && depth === recordDepth) lines.push(line);
    } else if (c === ']' || c === '}') depth--;
  }
  return lines;
}

/**
 * Offset of the first JSON syntax error, found by a small validating scanner:
 * V8's message names a position only for some errors ("Unexpected token '}', ..."
 * has none), and a line number is what a person fixing the file needs.
 */
export function jsonErrorOffset(text: string): number | undefined {
  let i = 0;
  const ws = (): void => {
    while (i < text.length && ' \t\r\n'.includes(text[i]!)) i++;
  };
  const fail = (): never => {
    throw i;
  };
  const literal = (word: string): void => {
    if (text.startsWith(word, i)) i += word.length;
    else fail();
  };
  const string = (): void => {
    i++;
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\') i++;
      else if (text.charCodeAt(i) < 0x20) fail();
      i++;
    }
    if (i >= text.length) fail();
    i++;
  };
  const number = (): void => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m) fail();
    i += m![0].length;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail();
        string();
        ws();
        if (text[i] !== ':') fail();
        i++;
        value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') {
          i++;
          return;
        } else fail();
      }
    } else if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === ']') {
          i++;
          return;
        } else fail();
      }
    } else if (c === '"') string();
    else if (c === 't') literal('true');
    else if (c === 'f') literal('false');
    else if (c === 'n') literal('null');
    else number();
  };
  try {
    value();
    ws();
    if (i < text.length) fail();
    return undefined;
  } catch (at) {
    if (typeof at === 'number') return at;
    throw at;
  }
}

function jsonErrorLine(text: string): number | undefined {
  const offset = jsonErrorOffset(text);
  return offset === undefined ? undefined : text.slice(0, offset).split('\n').length;
}

/**
 * Reads a dropped file completely or not at all: the first 50 problems are
 * collected (each `<file> line N: <field>: <problem>`) and reported together, so
 * one fix-and-drop-again settles them.
 */
export function parseDroppedFile(name: string, text: string, options: FileParseOptions): ParsedFile {
  const type = classifyFile(name);
  if (!type) throw new FileInvalidError(name, [`${name}: the name must start with assets, work-orders or production-orders and end in .csv or .json`]);
  const rows: { where: string; raw: Record<string, unknown> }[] = [];
  if (type.format === 'csv') {
    try {
      for (const row of parseCsv(text).rows) rows.push({ where: `${name} line ${row.line}`, raw: row.values });
    } catch (err) {
      if (err instanceof CsvSyntaxError) throw new FileInvalidError(name, [`${name} line ${err.line}: ${err.message}`]);
      throw err;
    }
  } else {
    let json: unknown;
    try {
      json = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
    } catch (err) {
      const line = jsonErrorLine(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
      throw new FileInvalidError(name, [`${name}${line !== undefined ? ` line ${line}` : ''}: not JSON: ${(err as Error).message}`]);
    }
    const list = Array.isArray(json) ? json : (json as { records?: unknown } | null)?.records;
    if (!Array.isArray(list)) throw new FileInvalidError(name, [`${name}: expected an array of records or {"records": [...]}`]);
    const lines = jsonElementLines(text);
    list.forEach((item, i) => {
      const where = `${name} record ${i + 1}${lines.length === list.length ? ` (line ${lines[i]})` : ''}`;
      if (item === null || typeof item !== 'object' || Array.isArray(item)) rows.push({ where, raw: { __invalid: true } });
      else rows.push({ where, raw: item as Record<string, unknown> });
    });
  }

  const problems: string[] = [];
  const upserts: ParsedFile['upserts'] = [];
  const deletions: string[] = [];
  const schema = SCHEMAS[type.kind];
  for (const { where, raw } of rows) {
    if (problems.length >= MAX_PROBLEMS) break;
    if ('__invalid' in raw) {
      problems.push(`${where}: not an object`);
      continue;
    }
    const { deleted, id, candidate } = normalise(raw, options);
    if (typeof id !== 'string' || id === '') {
      problems.push(`${where}: id: required`);
      continue;
    }
    if (deleted) {
      deletions.push(id);
      continue;
    }
    const parsed = schema.safeParse(candidate);
    if (!parsed.success) {
      problems.push(`${where} (id ${id}): ${formatIssues(parsed.error)}`);
      continue;
    }
    upserts.push(parsed.data as ParsedFile['upserts'][number]);
  }
  if (problems.length > 0) throw new FileInvalidError(name, problems);
  return { kind: type.kind, upserts, deletions };
}

/** A parsed file as a change set. */
export function fileChangeSet(parsed: ParsedFile): ChangeSet {
  return { upserts: { [parsed.kind]: parsed.upserts }, deletions: { [parsed.kind]: parsed.deletions } } as ChangeSet;
}
