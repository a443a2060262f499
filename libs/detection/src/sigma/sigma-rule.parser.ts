import { isMap, LineCounter, parseAllDocuments, type Document } from 'yaml';
import { mapSigmaField } from '../field-mapping';
import { parseTimespan } from '../timespan';
import { compileDetectionWithRequirements, DetectionCompileError, type CompiledDetection } from './sigma-detection.compiler';
import type { CorrelationRule, CountCondition, DetectionRule, Rule, RuleProblem, SigmaLevel, WeirExtensions } from './sigma-rule';

const LEVELS: readonly SigmaLevel[] = ['informational', 'low', 'medium', 'high', 'critical'];
const CORRELATION_TYPES = ['event_count', 'value_count', 'temporal', 'temporal_ordered'] as const;
const COUNT_OPS = ['gt', 'gte', 'lt', 'lte', 'eq', 'neq'] as const;

/** What parsing a rule file gives: the rules that parsed and a problem for each that did not. */
export interface RuleFileResult {
  rules: Rule[];
  problems: RuleProblem[];
}

class RuleSyntaxError extends Error {
  constructor(
    message: string,
    readonly path: readonly (string | number)[],
  ) {
    super(message);
  }
}

function lineOf(doc: Document, lines: LineCounter, path: readonly (string | number)[]): number | undefined {
  // Walk up the path until a node with a source range is found.
  for (let n = path.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
    const range = (node as { range?: [number, number, number] } | undefined)?.range;
    if (range) return lines.linePos(range[0]).line;
  }
  return undefined;
}

const str = (v: unknown, path: string[], required = false): string | undefined => {
  if (v === undefined || v === null) {
    if (required) throw new RuleSyntaxError(`"${path.join('.')}" is required`, path);
    return undefined;
  }
  if (typeof v !== 'string' && typeof v !== 'number') throw new RuleSyntaxError(`"${path.join('.')}" must be a string`, path);
  return String(v);
};

function parseWeir(raw: unknown): WeirExtensions {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new RuleSyntaxError('"weir" must be a map', ['weir']);
  const w = raw as Record<string, unknown>;
  const out: WeirExtensions = {};
  for (const key of Object.keys(w)) if (!['absence', 'first_seen', 'limit', 'incident', 'incident_window'].includes(key)) throw new RuleSyntaxError(`unknown extension "weir.${key}"`, ['weir', key]);
  if (w['absence'] !== undefined) {
    const a = (w['absence'] ?? {}) as Record<string, unknown>;
    if (a['of'] !== undefined && a['of'] !== 'open_work_order') throw new RuleSyntaxError('"weir.absence.of" supports only open_work_order', ['weir', 'absence', 'of']);
    out.absence = { assetField: str(a['asset_field'], ['weir', 'absence', 'asset_field']) ?? 'asset.id' };
  }
  if (w['first_seen'] !== undefined) {
    const f = w['first_seen'] as Record<string, unknown>;
    const fields = f?.['fields'];
    if (!Array.isArray(fields) || fields.length === 0 || fields.some((x) => typeof x !== 'string')) throw new RuleSyntaxError('"weir.first_seen.fields" must be a list of field names', ['weir', 'first_seen', 'fields']);
    let learningMs: number;
    try {
      learningMs = parseTimespan(f['learning']);
    } catch (err) {
      throw new RuleSyntaxError(`weir.first_seen.learning: ${(err as Error).message.replace(/^DETECTION\.RULE_INVALID: (<rule>: )?/, '')}`, ['weir', 'first_seen', 'learning']);
    }
    out.firstSeen = { fields: (fields as string[]).map(mapSigmaField), learningMs };
  }
  if (w['limit'] !== undefined) {
    const l = (w['limit'] ?? {}) as Record<string, unknown>;
    out.limit = {
      valueField: str(l['value_field'], ['weir', 'limit', 'value_field']) ?? 'metric.value',
      lowField: str(l['low_field'], ['weir', 'limit', 'low_field']) ?? 'limit.low',
      highField: str(l['high_field'], ['weir', 'limit', 'high_field']) ?? 'limit.high',
    };
  }
  const inc = str(w['incident'], ['weir', 'incident']);
  if (inc) out.incident = inc;
  if (w['incident_window'] !== undefined) {
    try {
      out.incidentWindowMs = parseTimespan(w['incident_window']);
    } catch (err) {
      throw new RuleSyntaxError((err as Error).message, ['weir', 'incident_window']);
    }
  }
  return out;
}

function parseCountCondition(raw: unknown, type: CorrelationRule['type']): { condition: CountCondition; field?: string } {
  if (raw === undefined || raw === null) {
    if (type === 'temporal' || type === 'temporal_ordered') return { condition: {} };
    throw new RuleSyntaxError(`"correlation.condition" is required for ${type}`, ['correlation', 'condition']);
  }
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new RuleSyntaxError('"correlation.condition" must be a map like { gte: 10 }', ['correlation', 'condition']);
  const c = raw as Record<string, unknown>;
  const condition: CountCondition = {};
  let field: string | undefined;
  for (const [k, v] of Object.entries(c)) {
    if (k === 'field') {
      if (type !== 'value_count') throw new RuleSyntaxError('"condition.field" belongs to value_count only', ['correlation', 'condition', k]);
      field = str(v, ['correlation', 'condition', 'field']);
      continue;
    }
    if (!(COUNT_OPS as readonly string[]).includes(k)) throw new RuleSyntaxError(`unknown condition operator "${k}" (gt, gte, lt, lte, eq, neq)`, ['correlation', 'condition', k]);
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new RuleSyntaxError(`condition "${k}" must be a non-negative integer`, ['correlation', 'condition', k]);
    condition[k as keyof CountCondition] = v;
  }
  if (type === 'value_count' && !field) throw new RuleSyntaxError('value_count needs "condition.field"', ['correlation', 'condition']);
  if ((type === 'event_count' || type === 'value_count') && Object.keys(condition).length === 0) throw new RuleSyntaxError(`${type} needs a count condition`, ['correlation', 'condition']);
  return field ? { condition, field } : { condition };
}

function parseDocumentRule(raw: unknown, file: string, index: number): Rule {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new RuleSyntaxError('a rule must be a YAML map', []);
  const r = raw as Record<string, unknown>;
  const title = str(r['title'], ['title'], true)!;
  const name = str(r['name'], ['name']);
  const id = str(r['id'], ['id']) ?? name ?? `${file}#${index}`;
  const levelRaw = str(r['level'], ['level']) ?? 'medium';
  if (!(LEVELS as readonly string[]).includes(levelRaw)) throw new RuleSyntaxError(`level "${levelRaw}" is not one of ${LEVELS.join(', ')}`, ['level']);
  const tagsRaw = r['tags'] ?? [];
  if (!Array.isArray(tagsRaw) || tagsRaw.some((t) => typeof t !== 'string')) throw new RuleSyntaxError('"tags" must be a list of strings', ['tags']);
  const tags = tagsRaw as string[];
  const techniques = [...new Set(tags.map((t) => /^attack\.(t\d{4}(?:\.\d{3})?)$/i.exec(t)?.[1]?.toUpperCase()).filter((t): t is string => !!t))];
  const common = { id, ...(name ? { name } : {}), title, description: str(r['description'], ['description']), level: levelRaw as SigmaLevel, tags, techniques, file, line: 0, weir: parseWeir(r['weir']) };
  const hasDetection = r['detection'] !== undefined;
  const hasCorrelation = r['correlation'] !== undefined;
  if (hasDetection === hasCorrelation) throw new RuleSyntaxError('a rule has either "detection" or "correlation"', []);
  if (hasDetection) {
    const ls = r['logsource'] ?? {};
    if (typeof ls !== 'object' || Array.isArray(ls)) throw new RuleSyntaxError('"logsource" must be a map', ['logsource']);
    let compiled: CompiledDetection;
    try {
      compiled = compileDetectionWithRequirements(r['detection'], mapSigmaField);
    } catch (err) {
      if (err instanceof DetectionCompileError) throw new RuleSyntaxError(err.message, err.path);
      throw err;
    }
    const rule: DetectionRule = { ...common, kind: 'detection', logsource: Object.fromEntries(Object.entries(ls as Record<string, unknown>).map(([k, v]) => [k, String(v)])), match: compiled.match, requires: compiled.requires };
    return rule;
  }
  const c = r['correlation'];
  if (c === null || typeof c !== 'object' || Array.isArray(c)) throw new RuleSyntaxError('"correlation" must be a map', ['correlation']);
  const cr = c as Record<string, unknown>;
  const type = str(cr['type'], ['correlation', 'type'], true)!;
  if (!(CORRELATION_TYPES as readonly string[]).includes(type)) throw new RuleSyntaxError(`correlation type "${type}" is not one of ${CORRELATION_TYPES.join(', ')}`, ['correlation', 'type']);
  const t = type as CorrelationRule['type'];
  const rules = cr['rules'];
  if (!Array.isArray(rules) || rules.length === 0 || rules.some((x) => typeof x !== 'string')) throw new RuleSyntaxError('"correlation.rules" must be a non-empty list of rule ids or names', ['correlation', 'rules']);
  if ((t === 'temporal' || t === 'temporal_ordered') && rules.length < 2) throw new RuleSyntaxError(`${t} needs at least two rules`, ['correlation', 'rules']);
  const groupByRaw = cr['group-by'] ?? [];
  const groupBy = typeof groupByRaw === 'string' ? [groupByRaw] : groupByRaw;
  if (!Array.isArray(groupBy) || groupBy.some((x) => typeof x !== 'string')) throw new RuleSyntaxError('"correlation.group-by" must be a list of field names', ['correlation', 'group-by']);
  let timespanMs: number;
  try {
    timespanMs = parseTimespan(cr['timespan']);
  } catch (err) {
    throw new RuleSyntaxError((err as Error).message.replace(/^DETECTION\.RULE_INVALID: <rule>: /, ''), ['correlation', 'timespan']);
  }
  const aliasesRaw = cr['aliases'] ?? {};
  if (typeof aliasesRaw !== 'object' || Array.isArray(aliasesRaw)) throw new RuleSyntaxError('"correlation.aliases" must be a map', ['correlation', 'aliases']);
  const aliases: Record<string, Record<string, string>> = {};
  for (const [alias, per] of Object.entries(aliasesRaw as Record<string, unknown>)) {
    if (per === null || typeof per !== 'object' || Array.isArray(per) || Object.values(per).some((v) => typeof v !== 'string')) throw new RuleSyntaxError(`alias "${alias}" must map rule names to field names`, ['correlation', 'aliases', alias]);
    for (const ruleRef of Object.keys(per)) if (!(rules as string[]).includes(ruleRef)) throw new RuleSyntaxError(`alias "${alias}" names rule "${ruleRef}", which the correlation does not reference`, ['correlation', 'aliases', alias, ruleRef]);
    aliases[alias] = Object.fromEntries(Object.entries(per as Record<string, string>).map(([k, v]) => [k, mapSigmaField(v)]));
  }
  const { condition, field } = parseCountCondition(cr['condition'], t);
  const generateRaw = cr['generate'] ?? r['generate'] ?? false;
  if (typeof generateRaw !== 'boolean') throw new RuleSyntaxError('"generate" must be true or false', ['correlation', 'generate']);
  const rule: CorrelationRule = {
    ...common,
    kind: 'correlation',
    type: t,
    rules: rules as string[],
    groupBy: (groupBy as string[]).map((g) => (aliases[g] ? g : mapSigmaField(g))),
    timespanMs,
    condition,
    ...(field ? { valueField: mapSigmaField(field) } : {}),
    aliases,
    generate: generateRaw,
  };
  return rule;
}

/**
 * Parses one rule file (one or more YAML documents separated by `---`).
 * Each document that does not parse becomes a problem with its file, line
 * and reason; the others are returned.
 */
export function parseRuleFile(text: string, file: string): RuleFileResult {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const rules: Rule[] = [];
  const problems: RuleProblem[] = [];
  const list = Array.isArray(docs) ? docs : [];
  if (!Array.isArray(docs)) {
    problems.push({ file, reason: 'not a YAML stream' });
    return { rules, problems };
  }
  list.forEach((doc, index) => {
    if (doc.errors.length > 0) {
      const e = doc.errors[0]!;
      problems.push({ file, line: lines.linePos(e.pos[0]).line, reason: `YAML: ${e.message.split('\n')[0]}` });
      return;
    }
    const raw: unknown = doc.toJS({ maxAliasCount: 100 });
    if (raw === null || raw === undefined) return; // an empty document (trailing ---)
    try {
      const rule = parseDocumentRule(raw, file, index);
      rule.line = lineOf(doc, lines, []) ?? 1;
      if (!isMap(doc.contents)) throw new RuleSyntaxError('a rule must be a YAML map', []);
      rules.push(rule);
    } catch (err) {
      if (err instanceof RuleSyntaxError) problems.push({ file, line: lineOf(doc, lines, err.path), reason: err.message });
      else problems.push({ file, line: lineOf(doc, lines, []), reason: (err as Error).message });
    }
  });
  return { rules, problems };
}
