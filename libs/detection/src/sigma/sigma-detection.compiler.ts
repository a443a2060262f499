import { fieldOf, type DetectionEvent, type FieldValue } from '../detection-event';
import { expandPattern, parseCondition, type ConditionNode } from './sigma-condition.parser';
import { cidrMatcher, numericOf, wildcardToRegExpSource, type ScalarMatcher } from './sigma-value.matcher';

/** A compiled detection: true when the event matches the rule's condition. */
export type EventPredicate = (event: DetectionEvent) => boolean;

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

function scalarString(value: Scalar | undefined): string | undefined {
  if (value === undefined || value === null) return undefined;
  return String(value);
}

/** Compiles one expected value of a field under the given modifiers. */
function valueMatcher(expected: unknown, mods: Set<string>, path: (string | number)[]): (event: DetectionEvent, field: string) => boolean {
  const fail = (msg: string): never => {
    throw new DetectionCompileError(msg, path);
  };
  if (mods.has('exists')) {
    if (typeof expected !== 'boolean') fail('"exists" takes true or false');
    return (event, field) => {
      const v = fieldOf(event, field);
      return (v !== undefined && v !== null) === expected;
    };
  }
  if (mods.has('fieldref')) {
    if (typeof expected !== 'string') fail('"fieldref" takes a field name');
    const other = expected as string;
    return (event, field) => {
      const a = fieldOf(event, field);
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
    return (event, field) => anyElement(fieldOf(event, field), test);
  }
  if (mods.has('cidr')) {
    if (typeof expected !== 'string') fail('"cidr" takes a network like 10.0.0.0/8');
    let m: ScalarMatcher;
    try {
      m = cidrMatcher(expected as string);
    } catch (err) {
      return fail((err as Error).message);
    }
    return (event, field) => anyElement(fieldOf(event, field), m);
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
    return (event, field) => anyElement(fieldOf(event, field), (v) => {
      const s = scalarString(v);
      return s !== undefined && re.test(s);
    });
  }
  if (expected === null) {
    // `field: null` means the field is absent or empty (null) in the event.
    return (event, field) => {
      const v = fieldOf(event, field);
      return v === undefined || v === null;
    };
  }
  if (typeof expected === 'number' || typeof expected === 'boolean') {
    if (mods.has('contains') || mods.has('startswith') || mods.has('endswith')) {
      return valueMatcher(String(expected), mods, path);
    }
    const want = expected;
    return (event, field) => anyElement(fieldOf(event, field), (v) => {
      if (v === undefined || v === null) return false;
      if (typeof v === typeof want) return v === want;
      return String(v).toLowerCase() === String(want).toLowerCase();
    });
  }
  if (typeof expected !== 'string') return fail(`a field value must be a string, number, boolean or null, got ${Array.isArray(expected) ? 'a nested list' : typeof expected}`);
  const w = wildcardToRegExpSource(expected);
  const anchorStart = !mods.has('contains') && !mods.has('endswith');
  const anchorEnd = !mods.has('contains') && !mods.has('startswith');
  // Plain strings are case-insensitive per the specification; `cased` makes them exact.
  const re = new RegExp(`${anchorStart ? '^' : ''}${w}${anchorEnd ? '$' : ''}`, mods.has('cased') ? 's' : 'is');
  return (event, field) => anyElement(fieldOf(event, field), (v) => {
    const s = scalarString(v);
    return s !== undefined && re.test(s);
  });
}

/** Compiles `field|mods: value(s)`. */
function fieldMatcher(key: string, values: unknown, mapField: (name: string) => string, path: (string | number)[]): EventPredicate {
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
  if (mods.has('neq')) {
    // Weir extension: true when the field holds none of the values (an absent field holds none).
    return (e) => matchers.every((m) => !m(e, field));
  }
  if (mods.has('all')) return (e) => matchers.every((m) => m(e, field));
  return (e) => matchers.some((m) => m(e, field));
}

/** Keyword search: a plain string found in any string field of the event (case-insensitive, wildcards allowed). */
function keywordMatcher(words: unknown[], path: (string | number)[]): EventPredicate {
  const res = words.map((w, i) => {
    if (typeof w !== 'string' && typeof w !== 'number') throw new DetectionCompileError('a keyword list holds strings only', [...path, i]);
    return new RegExp(wildcardToRegExpSource(String(w)), 'is');
  });
  return (e) => {
    for (const v of Object.values(e.fields)) {
      if (typeof v === 'string' && res.some((re) => re.test(v))) return true;
    }
    return false;
  };
}

function searchMatcher(name: string, def: unknown, mapField: (name: string) => string): EventPredicate {
  const path = ['detection', name];
  if (Array.isArray(def)) {
    if (def.length === 0) throw new DetectionCompileError(`search "${name}" is an empty list`, path);
    if (def.every((d) => d !== null && typeof d === 'object' && !Array.isArray(d))) {
      const maps = def.map((d, i) => mapMatcher(d as Record<string, unknown>, mapField, [...path, i]));
      return (e) => maps.some((m) => m(e));
    }
    return keywordMatcher(def as unknown[], path);
  }
  if (def !== null && typeof def === 'object') return mapMatcher(def as Record<string, unknown>, mapField, path);
  if (typeof def === 'string') return keywordMatcher([def], path);
  throw new DetectionCompileError(`search "${name}" must be a map, a list of maps or a list of keywords`, path);
}

function mapMatcher(map: Record<string, unknown>, mapField: (name: string) => string, path: (string | number)[]): EventPredicate {
  const entries = Object.entries(map);
  if (entries.length === 0) throw new DetectionCompileError('empty map', path);
  const parts = entries.map(([k, v]) => fieldMatcher(k, v, mapField, [...path, k]));
  return (e) => parts.every((p) => p(e));
}

function compileNode(node: ConditionNode, searches: Map<string, EventPredicate>, identifiers: string[]): EventPredicate {
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
      return node.quantifier === 'all' ? (e) => ps.every((p) => p(e)) : (e) => ps.some((p) => p(e));
    }
    case 'not': {
      const p = compileNode(node.operand, searches, identifiers);
      return (e) => !p(e);
    }
    case 'and': {
      const ps = node.operands.map((o) => compileNode(o, searches, identifiers));
      return (e) => ps.every((p) => p(e));
    }
    case 'or': {
      const ps = node.operands.map((o) => compileNode(o, searches, identifiers));
      return (e) => ps.some((p) => p(e));
    }
  }
}

/**
 * Compiles a Sigma `detection` section. `mapField` translates Sigma field
 * names to the normalised model's; conditions given as a list are OR-ed
 * (the specification's older list form).
 */
export function compileDetection(detection: unknown, mapField: (name: string) => string): EventPredicate {
  if (detection === null || typeof detection !== 'object' || Array.isArray(detection)) throw new DetectionCompileError('detection must be a map of search identifiers and a condition', ['detection']);
  const d = detection as Record<string, unknown>;
  const searches = new Map<string, EventPredicate>();
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
  return compiled.length === 1 ? compiled[0]! : (e) => compiled.some((p) => p(e));
}
