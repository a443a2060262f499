/**
 * Mapping of time series (an OPC UA node or a historian tag of one source) to
 * ISA-95 assets. Pure: no I/O, no clock. The enricher compiles the rules once
 * and resolves every series it sees; series no rule matches are reported by
 * {@link partitionByMapping}, never dropped.
 *
 * Rules are tried in the order given and the first that matches wins. An
 * explicit rule names one node exactly; a pattern rule matches the node id or
 * the browse path with a glob or a regular expression whose captures build the
 * asset id (and optionally the asset path) from a template.
 */

/** One series as a connector reports it. */
export interface SeriesRef {
  /** The data source (one OPC UA endpoint or historian). */
  sourceId: string;
  /** The node id (`ns=2;s=Line1.Filler.Temperature`) or historian tag name. */
  nodeId: string;
  /** Slash-separated browse path from the Objects folder, when known (`Plant/Site01/Line01/Filler/Temperature`). */
  browsePath?: string;
}

/** An exact mapping of one node of one source (or of every source when `sourceId` is left out). */
export interface ExplicitAssetRule {
  kind: 'explicit';
  /** Shown in results and logs; defaults to `explicit[<index>]`. */
  name?: string;
  /** The source the node belongs to; absent: any source. */
  sourceId?: string;
  nodeId: string;
  assetId: string;
  assetPath?: string;
}

/** A pattern over the node id or the browse path whose captures fill the asset id template. */
export interface PatternAssetRule {
  kind: 'pattern';
  /** Shown in results and logs; defaults to `pattern[<index>]`. */
  name?: string;
  /** Only series of this source; absent: any source. */
  sourceId?: string;
  /** What the pattern is matched against. A series without a browse path never matches a `browsePath` rule. */
  target: 'nodeId' | 'browsePath';
  /**
   * A glob over the whole target: `*` matches within one path segment (no `/`),
   * `**` across segments, `?` one character other than `/`. Each `*`, `**` and
   * `?` is a numbered capture (`$1`, `$2`, ...). Give exactly one of `glob` and `regex`.
   */
  glob?: string;
  /** A regular expression (JavaScript syntax, not anchored unless you anchor it); numbered and named captures. */
  regex?: string;
  /** Regex flags, e.g. `i`. Only with `regex`. */
  flags?: string;
  /**
   * Template of the asset id: `$1` or `${1}` for a numbered capture, `${name}` for a
   * named one, `$0` for the whole match, `${1:lower}` / `${1:upper}` to change case,
   * `$$` for a literal `$`. A match whose asset id comes out empty does not count.
   */
  assetId: string;
  /** Template of the asset path, same syntax. */
  assetPath?: string;
}

/** A mapping rule. */
export type AssetMappingRule = ExplicitAssetRule | PatternAssetRule;

/** The asset a series belongs to and the rule that said so. */
export interface AssetMatch {
  assetId: string;
  /** Name of the matching rule (its `name`, or `explicit[i]` / `pattern[i]`). */
  rule: string;
  assetPath?: string;
}

/** A rule set that cannot be compiled: every problem, each with the rule's index and name. */
export class AssetMappingError extends Error {
  readonly code = 'DOMAIN.BAD_ASSET_MAPPING';
  constructor(readonly problems: readonly string[]) {
    super(`DOMAIN.BAD_ASSET_MAPPING: ${problems.length} problem(s) in the asset mapping rules: ${problems.join('; ')}`);
    this.name = 'AssetMappingError';
  }
}

/** Compiled rules; build once with {@link compileAssetMapping} and resolve many series. */
export interface AssetMapper {
  /** The asset of `series` by the first matching rule, or undefined when no rule matches. */
  resolve(series: SeriesRef): AssetMatch | undefined;
  /** Number of rules. */
  readonly size: number;
}

type TemplatePart = { text: string } | { group: string; modifier?: 'lower' | 'upper' };

interface CompiledPattern {
  index: number;
  name: string;
  sourceId: string | undefined;
  target: 'nodeId' | 'browsePath';
  regex: RegExp;
  assetId: TemplatePart[];
  assetPath: TemplatePart[] | undefined;
}

interface CompiledExplicit {
  index: number;
  name: string;
  assetId: string;
  assetPath: string | undefined;
}

// \u0000 cannot occur in a source id, so the pair is unambiguous.
const explicitKey = (sourceId: string | undefined, nodeId: string): string => `${sourceId ?? '*'}\u0000${nodeId}`;

/**
 * Turns a glob into an anchored regular expression: `**` any characters, `*`
 * any run without `/`, `?` one character other than `/`; each is a capture.
 * Everything else is literal.
 */
export function globToRegExp(glob: string): RegExp {
  let source = '^';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      source += '(.*)';
      i++;
    } else if (c === '*') {
      source += '([^/]*)';
    } else if (c === '?') {
      source += '([^/])';
    } else {
      source += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
  }
  return new RegExp(`${source}$`);
}

/** Parses a template; throws a message on a malformed placeholder. */
function parseTemplate(template: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let text = '';
  for (let i = 0; i < template.length; i++) {
    const c = template[i]!;
    if (c !== '$') {
      text += c;
      continue;
    }
    const next = template[i + 1];
    if (next === '$') {
      text += '$';
      i++;
      continue;
    }
    let group: string;
    let modifier: 'lower' | 'upper' | undefined;
    if (next === '{') {
      const close = template.indexOf('}', i + 2);
      if (close < 0) throw new Error(`unclosed "\${" in template "${template}"`);
      const inner = template.slice(i + 2, close);
      const [name, mod, ...rest] = inner.split(':');
      if (!name || !/^[A-Za-z0-9_]+$/.test(name) || rest.length > 0) throw new Error(`bad placeholder "\${${inner}}" in template "${template}"`);
      if (mod !== undefined && mod !== 'lower' && mod !== 'upper') throw new Error(`unknown modifier "${mod}" in template "${template}" (use lower or upper)`);
      group = name;
      modifier = mod;
      i = close;
    } else if (next !== undefined && /[0-9]/.test(next)) {
      // A bare $ takes one digit, as in String.prototype.replace; use ${12} for more.
      group = next;
      i++;
    } else {
      throw new Error(`a "$" must be followed by a digit, "{" or "$" in template "${template}"`);
    }
    if (text) parts.push({ text });
    text = '';
    parts.push(modifier ? { group, modifier } : { group });
  }
  if (text) parts.push({ text });
  return parts;
}

function groupNames(parts: readonly TemplatePart[]): string[] {
  return parts.flatMap((p) => ('group' in p ? [p.group] : []));
}

function render(parts: readonly TemplatePart[], match: RegExpExecArray): string | undefined {
  let out = '';
  for (const part of parts) {
    if ('text' in part) {
      out += part.text;
      continue;
    }
    const raw = /^[0-9]+$/.test(part.group) ? match[Number(part.group)] : match.groups?.[part.group];
    // An optional group that did not take part leaves a hole: treat the rule as not matching.
    if (raw === undefined || raw === '') return undefined;
    out += part.modifier === 'lower' ? raw.toLowerCase() : part.modifier === 'upper' ? raw.toUpperCase() : raw;
  }
  return out;
}

/** Number of capture groups of a regular expression (from a match against the empty alternative). */
function captureCount(regex: RegExp): number {
  return new RegExp(`${regex.source}|`, regex.flags.replace('g', '')).exec('')!.length - 1;
}

/**
 * Validates and compiles rules. Throws {@link AssetMappingError} listing every
 * bad rule (invalid regex, both or neither of glob/regex, a template naming a
 * capture the pattern does not have, an empty asset id).
 */
export function compileAssetMapping(rules: readonly AssetMappingRule[]): AssetMapper {
  const problems: string[] = [];
  const patterns: CompiledPattern[] = [];
  const explicit = new Map<string, CompiledExplicit>();
  rules.forEach((rule, index) => {
    const name = rule.name ?? `${rule.kind}[${index}]`;
    const where = `rule ${index} (${name})`;
    if (rule.kind === 'explicit') {
      if (!rule.nodeId) problems.push(`${where}: nodeId is empty`);
      if (!rule.assetId) problems.push(`${where}: assetId is empty`);
      const key = explicitKey(rule.sourceId, rule.nodeId);
      // First match wins, so a later duplicate could never apply: keep the first.
      if (!explicit.has(key)) explicit.set(key, { index, name, assetId: rule.assetId, assetPath: rule.assetPath });
      return;
    }
    if ((rule.glob === undefined) === (rule.regex === undefined)) {
      problems.push(`${where}: give exactly one of glob and regex`);
      return;
    }
    if (rule.flags !== undefined && rule.glob !== undefined) problems.push(`${where}: flags apply only to regex`);
    let regex: RegExp;
    try {
      regex = rule.glob !== undefined ? globToRegExp(rule.glob) : new RegExp(rule.regex!, (rule.flags ?? '').replace('g', ''));
    } catch (err) {
      problems.push(`${where}: invalid regex: ${(err as Error).message}`);
      return;
    }
    let assetId: TemplatePart[];
    let assetPath: TemplatePart[] | undefined;
    try {
      assetId = parseTemplate(rule.assetId);
      assetPath = rule.assetPath === undefined ? undefined : parseTemplate(rule.assetPath);
    } catch (err) {
      problems.push(`${where}: ${(err as Error).message}`);
      return;
    }
    if (assetId.length === 0) problems.push(`${where}: assetId template is empty`);
    const count = captureCount(regex);
    for (const group of [...groupNames(assetId), ...groupNames(assetPath ?? [])]) {
      const known = /^[0-9]+$/.test(group) ? Number(group) <= count : regex.source.includes(`(?<${group}>`);
      if (!known) problems.push(`${where}: template names capture "${group}" but the pattern has ${/^[0-9]+$/.test(group) ? `${count} numbered capture(s)` : 'no such named capture'}`);
    }
    patterns.push({ index, name, sourceId: rule.sourceId, target: rule.target, regex, assetId, assetPath });
  });
  if (problems.length > 0) throw new AssetMappingError(problems);

  return {
    size: rules.length,
    resolve(series: SeriesRef): AssetMatch | undefined {
      // The exact rules are looked up by key; only patterns listed before the first exact hit can beat it.
      const bySource = explicit.get(explicitKey(series.sourceId, series.nodeId));
      const anySource = explicit.get(explicitKey(undefined, series.nodeId));
      const hit = bySource && anySource ? (bySource.index < anySource.index ? bySource : anySource) : (bySource ?? anySource);
      const limit = hit?.index ?? Number.POSITIVE_INFINITY;
      for (const p of patterns) {
        if (p.index > limit) break;
        if (p.sourceId !== undefined && p.sourceId !== series.sourceId) continue;
        const target = p.target === 'nodeId' ? series.nodeId : series.browsePath;
        if (target === undefined) continue;
        p.regex.lastIndex = 0;
        const m = p.regex.exec(target);
        if (!m) continue;
        const assetId = render(p.assetId, m);
        if (assetId === undefined || assetId === '') continue;
        const assetPath = p.assetPath ? render(p.assetPath, m) : undefined;
        if (p.assetPath && assetPath === undefined) continue;
        return assetPath === undefined ? { assetId, rule: p.name } : { assetId, rule: p.name, assetPath };
      }
      if (!hit) return undefined;
      return hit.assetPath === undefined ? { assetId: hit.assetId, rule: hit.name } : { assetId: hit.assetId, rule: hit.name, assetPath: hit.assetPath };
    },
  };
}

/**
 * Resolves many series at once: those with an asset, and those without one
 * (to be listed, e.g. on a completeness report, never silently dropped).
 */
export function partitionByMapping<S extends SeriesRef>(mapper: AssetMapper, series: Iterable<S>): { mapped: { series: S; match: AssetMatch }[]; unmapped: S[] } {
  const mapped: { series: S; match: AssetMatch }[] = [];
  const unmapped: S[] = [];
  for (const s of series) {
    const match = mapper.resolve(s);
    if (match) mapped.push({ series: s, match });
    else unmapped.push(s);
  }
  return { mapped, unmapped };
}
