import { fieldOf, type DetectionEvent, type FieldValue } from '../detection-event';
import { expandPattern, parseCondition, type ConditionNode } from './sigma-condition.parser';
import { cidrMatcher, numericOf, wildcardToRegExpSource, type ScalarMatcher } from './sigma-value.matcher';

/** A compiled detection: true when the event matches the rule's condition. */
export type EventPredicate = (event: DetectionEvent) => boolean;

/**
 * Field values a detection needs: for each field named, the event's value (as a lower-cased string,
 * or one element of it when it is a list) must be one of those given for the detection to match.
 * A necessary condition only, derived from plain (unmodified, wildcard-free) values the condition
 * cannot do without; rules are indexed by it so an event is tested only against rules it may match.
 */
export type FieldRequirements = Readonly<Record<string, readonly string[]>>;

/** A compiled detection with what it requires of an event. */
export interface CompiledDetection {
  match: EventPredicate;
  requires: FieldRequirements;
}

/** A compiled part: its predicate, the values it requires (field -> allowed keys), and a rough cost for ordering `and`. */
interface Part {
  test: EventPredicate;
  needs: Needs;
  cost: number;
}
type Needs = Map<string, Set<string>>;

/** The key a field value is indexed by: case-insensitive equality of plain values implies equal keys. */
export function requirementKey(value: string | number | boolean): string {
  return String(value).toLowerCase();
}

/** All of: every requirement of each holds (a field required twice takes the values both allow). */
function allOf(list: readonly Needs[]): Needs {
  const out: Needs = new Map();
  for (const needs of list) {
    for (const [field, keys] of needs) {
      const have = out.get(field);
      out.set(field, have ? new Set([...have].filter((k) => keys.has(k))) : new Set(keys));
    }
  }
  return out;
}

/** One of: only fields every alternative requires remain, with the values any of them allows. */
function oneOf(list: readonly Needs[]): Needs {
  const out: Needs = new Map();
  const [first, ...rest] = list;
  if (!first) return out;
  for (const [field, keys] of first) {
    if (!rest.every((n) => n.has(field))) continue;
    const union = new Set(keys);
    for (const n of rest) for (const k of n.get(field)!) union.add(k);
    out.set(field, union);
  }
  return out;
}

const NONE: Needs = new Map();
const byCost = (a: Part, b: Part): number => a.cost - b.cost;

/**
 * Reads a field of an event: a property read where no inherited property can answer (the same
 * result as `fieldOf`, without its own-property check per read).
 */
function fieldReader(name: string): (event: DetectionEvent) => FieldValue | undefined {
  if (name in Object.prototype) return (e) => fieldOf(e, name);
  return (e) => e.fields[name];
}

/** A compile error with the YAML path it concerns, so the caller can name the line. */
export class DetectionCompileError extends Error {
  constructor(
    message: string,
    readonly path: readonly (string | number)[],
  ) {
    super(message);
    this.name = 'DetectionCompileError';
  }
}

const MODIFIERS = new Set(['contains', 'startswith', 'endswith', 'all', 're', 'i', 'm', 's', 'cidr', 'exists', 'lt', 'lte', 'gt', 'gte', 'neq', 'cased', 'fieldref']);
type Scalar = Exclude<FieldValue, readonly FieldValue[]>;

function anyElement(value: FieldValue | undefined, test: ScalarMatcher): boolean {
  if (Array.isArray(value)) return (value as readonly FieldValue[]).some((v) => anyElement(v, test));
  return test(value as Scalar | undefined);
}

/**
 * A value matcher tests the field's value (read once per field); `fieldref` and `exists` look at the
 * event too. Those that test each element of a list alone carry that test as `scalar`.
 */
type ValueMatcher = ((value: FieldValue | undefined, event: DetectionEvent) => boolean) & { scalar?: ScalarMatcher };

/** A value matcher that holds when `test` holds for the value, or for any element of a list value. */
function elementwise(test: ScalarMatcher): ValueMatcher {
  const m: ValueMatcher = (v) => (Array.isArray(v) ? anyElement(v, test) : test(v as Scalar | undefined));
  m.scalar = test;
  return m;
}

/** True for a string without wildcards or escapes: it matches itself only (case aside). */
const isLiteral = (text: string): boolean => !/[*?\\]/.test(text);
// eslint-disable-next-line no-control-regex
const isAscii = (text: string): boolean => /^[\x00-\x7f]*$/.test(text);

/** True when `lower` (ASCII, lower case) is at `from` in `text`, ASCII letters compared without case. */
function asciiFoldedAt(text: string, from: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) {
    let c = text.charCodeAt(from + i);
    if (c >= 65 && c <= 90) c += 32;
    if (c !== lower.charCodeAt(i)) return false;
  }
  return true;
}

function scalarString(value: Scalar | undefined): string | undefined {
  if (value === undefined || value === null) return undefined;
  return String(value);
}

/** Compiles one expected value of a field under the given modifiers. */
function valueMatcher(expected: unknown, mods: Set<string>, path: (string | number)[]): ValueMatcher {
  const fail = (msg: string): never => {
    throw new DetectionCompileError(msg, path);
  };
  if (mods.has('exists')) {
    if (typeof expected !== 'boolean') fail('"exists" takes true or false');
    return (v) => (v !== undefined && v !== null) === expected;
  }
  if (mods.has('fieldref')) {
    if (typeof expected !== 'string') fail('"fieldref" takes a field name');
    const other = expected as string;
    return (a, event) => {
      const b = fieldOf(event, other);
      return a !== undefined && b !== undefined && a !== null && String(a) === String(b);
    };
  }
  const compare = ['lt', 'lte', 'gt', 'gte'].filter((m) => mods.has(m));
  if (compare.length > 0) {
    if (compare.length > 1) fail(`only one of lt/lte/gt/gte per field, got ${compare.join(', ')}`);
    const bound = numericOf(expected);
    if (bound === undefined) fail(`"${compare[0]}" takes a number, got ${JSON.stringify(expected)}`);
    const b = bound!;
    const op = compare[0];
    const test: ScalarMatcher = (v) => {
      const n = numericOf(v);
      if (n === undefined) return false;
      return op === 'lt' ? n < b : op === 'lte' ? n <= b : op === 'gt' ? n > b : n >= b;
    };
    return elementwise(test);
  }
  if (mods.has('cidr')) {
    if (typeof expected !== 'string') fail('"cidr" takes a network like 10.0.0.0/8');
    let m: ScalarMatcher;
    try {
      m = cidrMatcher(expected as string);
    } catch (err) {
      return fail((err as Error).message);
    }
    return elementwise(m);
  }
  if (mods.has('re')) {
    if (typeof expected !== 'string') fail('"re" takes a regular expression string');
    const flags = ['i', 'm', 's'].filter((f) => mods.has(f)).join('');
    let re: RegExp;
    try {
      re = new RegExp(expected as string, flags);
    } catch (err) {
      return fail(`invalid regular expression: ${(err as Error).message}`);
    }
    const test: ScalarMatcher = (v) => {
      const s = typeof v === 'string' ? v : scalarString(v);
      return s !== undefined && re.test(s);
    };
    return elementwise(test);
  }
  if (expected === null) {
    // `field: null` means the field is absent or empty (null) in the event.
    return (v) => v === undefined || v === null;
  }
  if (typeof expected === 'number' || typeof expected === 'boolean') {
    if (mods.has('contains') || mods.has('startswith') || mods.has('endswith')) {
      return valueMatcher(String(expected), mods, path);
    }
    const want = expected;
    const wantText = String(want).toLowerCase();
    const test: ScalarMatcher = (v) => {
      if (v === undefined || v === null) return false;
      if (typeof v === typeof want) return v === want;
      return String(v).toLowerCase() === wantText;
    };
    return elementwise(test);
  }
  if (typeof expected !== 'string') return fail(`a field value must be a string, number, boolean or null, got ${Array.isArray(expected) ? 'a nested list' : typeof expected}`);
  const w = wildcardToRegExpSource(expected);
  const anchorStart = !mods.has('contains') && !mods.has('endswith');
  const anchorEnd = !mods.has('contains') && !mods.has('startswith');
  // Plain strings are case-insensitive per the specification; `cased` makes them exact.
  const re = new RegExp(`${anchorStart ? '^' : ''}${w}${anchorEnd ? '$' : ''}`, mods.has('cased') ? 's' : 'is');
  let test: ScalarMatcher;
  const cased = mods.has('cased');
  if (isLiteral(expected) && (cased || isAscii(expected))) {
    // Without wildcards each character of the pattern matches one character of the value, and
    // case-insensitive matching pairs an ASCII character only with itself in either case: compare
    // the characters where the pattern must be instead of running the expression over the value.
    const len = expected.length;
    const lower = expected.toLowerCase();
    const at = cased ? (s: string, from: number): boolean => s.startsWith(expected, from) : (s: string, from: number): boolean => asciiFoldedAt(s, from, lower);
    if (anchorStart && anchorEnd) {
      test = (v) => {
        const s = typeof v === 'string' ? v : scalarString(v);
        return s !== undefined && s.length === len && (s === expected || at(s, 0));
      };
    } else if (anchorStart) {
      test = (v) => {
        const s = typeof v === 'string' ? v : scalarString(v);
        return s !== undefined && s.length >= len && at(s, 0);
      };
    } else if (anchorEnd) {
      test = (v) => {
        const s = typeof v === 'string' ? v : scalarString(v);
        return s !== undefined && s.length >= len && at(s, s.length - len);
      };
    } else {
      test = (v) => {
        const s = typeof v === 'string' ? v : scalarString(v);
        return s !== undefined && s.length >= len && re.test(s);
      };
    }
  } else {
    test = (v) => {
      const s = typeof v === 'string' ? v : scalarString(v);
      return s !== undefined && re.test(s);
    };
  }
  return elementwise(test);
}

/** The keys a plain `field: value(s)` requires, or undefined when the values do not pin the field down. */
function plainKeys(values: readonly unknown[], mods: Set<string>): Set<string> | undefined {
  for (const m of mods) if (m !== 'cased') return undefined;
  const keys = new Set<string>();
  for (const v of values) {
    if (typeof v === 'number' || typeof v === 'boolean') keys.add(requirementKey(v));
    // Case-insensitive matching never pairs a non-ASCII character with an ASCII one, so for an
    // ASCII value equal lower-cased keys are necessary; other values are not indexed.
    else if (typeof v === 'string' && isLiteral(v) && isAscii(v)) keys.add(requirementKey(v));
    else return undefined;
  }
  return keys;
}

/** A rough cost of testing one value under the modifiers, to evaluate cheap parts of an `and` first. */
function valueCost(value: unknown, mods: Set<string>): number {
  if (mods.has('exists')) return 1;
  if (mods.has('re') || mods.has('cidr') || mods.has('fieldref')) return 4;
  if (typeof value === 'string' && (!isLiteral(value) || mods.has('contains') || mods.has('startswith') || mods.has('endswith'))) return 3;
  return 2;
}

/** Compiles `field|mods: value(s)`. */
function fieldMatcher(key: string, values: unknown, mapField: (name: string) => string, path: (string | number)[]): Part {
  const [rawField, ...modList] = key.split('|');
  const mods = new Set(modList.map((m) => m.toLowerCase()));
  for (const m of mods) if (!MODIFIERS.has(m)) throw new DetectionCompileError(`unknown modifier "${m}" on "${key}"`, path);
  if ((mods.has('i') || mods.has('m') || mods.has('s')) && !mods.has('re')) throw new DetectionCompileError(`modifiers i, m, s go with "re" only ("${key}")`, path);
  if (!rawField) {
    // A keyword search under a map key `|contains` etc. is not meaningful here.
    throw new DetectionCompileError(`"${key}" has no field name`, path);
  }
  const field = mapField(rawField);
  const list = Array.isArray(values) ? values : [values];
  if (list.length === 0) throw new DetectionCompileError(`"${key}" has an empty list`, path);
  const matchers = list.map((v, i) => valueMatcher(v, mods, Array.isArray(values) ? [...path, i] : path));
  const read = fieldReader(field);
  const cost = list.reduce<number>((sum, v) => sum + valueCost(v, mods), 0);
  if (mods.has('neq')) {
    // Weir extension: true when the field holds none of the values (an absent field holds none).
    const none: EventPredicate = (e) => {
      const v = read(e);
      return matchers.every((m) => !m(v, e));
    };
    return { test: none, needs: NONE, cost };
  }
  if (mods.has('all')) {
    const all: EventPredicate = (e) => {
      const v = read(e);
      return matchers.every((m) => m(v, e));
    };
    return { test: all, needs: NONE, cost };
  }
  const keys = plainKeys(list, mods);
  const needs = keys ? new Map([[field, keys]]) : NONE;
  const scalars = matchers.map((m) => m.scalar);
  if (scalars.every((t) => t !== undefined)) {
    // Each value tests elements alone: one test per element for all values (any value, any element).
    const ts = scalars as ScalarMatcher[];
    const any: ScalarMatcher =
      ts.length === 1
        ? ts[0]!
        : (x) => {
            for (const t of ts) if (t(x)) return true;
            return false;
          };
    const test: EventPredicate = (e) => {
      const v = read(e);
      return Array.isArray(v) ? anyElement(v, any) : any(v as Scalar | undefined);
    };
    return { test, needs, cost };
  }
  const some: EventPredicate = (e) => {
    const v = read(e);
    return matchers.some((m) => m(v, e));
  };
  return { test: some, needs, cost };
}

/** Keyword search: a plain string found in any string field of the event (case-insensitive, wildcards allowed). */
function keywordMatcher(words: unknown[], path: (string | number)[]): Part {
  const res = words.map((w, i) => {
    if (typeof w !== 'string' && typeof w !== 'number') throw new DetectionCompileError('a keyword list holds strings only', [...path, i]);
    return new RegExp(wildcardToRegExpSource(String(w)), 'is');
  });
  return {
    test: (e) => {
      for (const v of Object.values(e.fields)) {
        if (typeof v === 'string' && res.some((re) => re.test(v))) return true;
      }
      return false;
    },
    needs: NONE,
    cost: 10 * res.length,
  };
}

function searchMatcher(name: string, def: unknown, mapField: (name: string) => string): Part {
  const path = ['detection', name];
  if (Array.isArray(def)) {
    if (def.length === 0) throw new DetectionCompileError(`search "${name}" is an empty list`, path);
    if (def.every((d) => d !== null && typeof d === 'object' && !Array.isArray(d))) {
      const maps = def.map((d, i) => mapMatcher(d as Record<string, unknown>, mapField, [...path, i]));
      return anyPart(maps);
    }
    return keywordMatcher(def as unknown[], path);
  }
  if (def !== null && typeof def === 'object') return mapMatcher(def as Record<string, unknown>, mapField, path);
  if (typeof def === 'string') return keywordMatcher([def], path);
  throw new DetectionCompileError(`search "${name}" must be a map, a list of maps or a list of keywords`, path);
}

function mapMatcher(map: Record<string, unknown>, mapField: (name: string) => string, path: (string | number)[]): Part {
  const entries = Object.entries(map);
  if (entries.length === 0) throw new DetectionCompileError('empty map', path);
  return everyPart(entries.map(([k, v]) => fieldMatcher(k, v, mapField, [...path, k])));
}

/**
 * All parts hold. Parts have no side effects, so they run cheapest first (the result is the same,
 * an `and` just stops sooner).
 */
function everyPart(parts: readonly Part[]): Part {
  const ordered = [...parts].sort(byCost);
  const tests = ordered.map((p) => p.test);
  const cost = parts.reduce((sum, p) => sum + p.cost, 0);
  const needs = allOf(parts.map((p) => p.needs));
  if (tests.length === 1) return { test: tests[0]!, needs, cost };
  if (tests.length === 2) {
    const [a, b] = tests as [EventPredicate, EventPredicate];
    return { test: (e) => a(e) && b(e), needs, cost };
  }
  return { test: (e) => tests.every((t) => t(e)), needs, cost };
}

/** Any part holds; cheapest first. */
function anyPart(parts: readonly Part[]): Part {
  const ordered = [...parts].sort(byCost);
  const tests = ordered.map((p) => p.test);
  const cost = parts.reduce((sum, p) => sum + p.cost, 0);
  const needs = oneOf(parts.map((p) => p.needs));
  if (tests.length === 1) return { test: tests[0]!, needs, cost };
  if (tests.length === 2) {
    const [a, b] = tests as [EventPredicate, EventPredicate];
    return { test: (e) => a(e) || b(e), needs, cost };
  }
  return { test: (e) => tests.some((t) => t(e)), needs, cost };
}

function compileNode(node: ConditionNode, searches: Map<string, Part>, identifiers: string[]): Part {
  switch (node.type) {
    case 'ref': {
      const p = searches.get(node.name);
      if (!p) throw new DetectionCompileError(`condition names "${node.name}", which is not a search identifier of the detection`, ['detection', 'condition']);
      return p;
    }
    case 'of': {
      const names = expandPattern(node.pattern, identifiers);
      if (names.length === 0) throw new DetectionCompileError(`"${node.pattern}" matches no search identifier`, ['detection', 'condition']);
      const ps = names.map((n) => searches.get(n)!);
      return node.quantifier === 'all' ? everyPart(ps) : anyPart(ps);
    }
    case 'not': {
      const operand = compileNode(node.operand, searches, identifiers);
      const p = operand.test;
      return { test: (e) => !p(e), needs: NONE, cost: operand.cost };
    }
    case 'and':
      return everyPart(node.operands.map((o) => compileNode(o, searches, identifiers)));
    case 'or':
      return anyPart(node.operands.map((o) => compileNode(o, searches, identifiers)));
  }
}

/**
 * Compiles a Sigma `detection` section. `mapField` translates Sigma field
 * names to the normalised model's; conditions given as a list are OR-ed
 * (the specification's older list form).
 */
export function compileDetection(detection: unknown, mapField: (name: string) => string): EventPredicate {
  return compileDetectionWithRequirements(detection, mapField).match;
}

/** {@link compileDetection}, with the field values the detection requires (see {@link FieldRequirements}). */
export function compileDetectionWithRequirements(detection: unknown, mapField: (name: string) => string): CompiledDetection {
  if (detection === null || typeof detection !== 'object' || Array.isArray(detection)) throw new DetectionCompileError('detection must be a map of search identifiers and a condition', ['detection']);
  const d = detection as Record<string, unknown>;
  const searches = new Map<string, Part>();
  for (const [name, def] of Object.entries(d)) {
    if (name === 'condition' || name === 'timeframe') continue;
    searches.set(name, searchMatcher(name, def, mapField));
  }
  const cond = d['condition'];
  const conds = Array.isArray(cond) ? cond : [cond];
  if (cond === undefined || conds.length === 0 || conds.some((c) => typeof c !== 'string')) throw new DetectionCompileError('detection needs a condition (a string)', ['detection', 'condition']);
  const identifiers = [...searches.keys()];
  const compiled = (conds as string[]).map((c) => {
    let node: ConditionNode;
    try {
      node = parseCondition(c);
    } catch (err) {
      throw new DetectionCompileError((err as Error).message, ['detection', 'condition']);
    }
    return compileNode(node, searches, identifiers);
  });
  // The list form ORs its conditions in order, as written.
  const tests = compiled.map((p) => p.test);
  const match: EventPredicate = tests.length === 1 ? tests[0]! : (e) => tests.some((p) => p(e));
  const needs = oneOf(compiled.map((p) => p.needs));
  return { match, requires: Object.fromEntries([...needs].map(([field, keys]) => [field, [...keys].sort()])) };
}
