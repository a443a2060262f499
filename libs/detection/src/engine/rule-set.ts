import type { CorrelationRule, Rule, RuleProblem } from '../sigma/sigma-rule';

/** A correlation's link to a rule it references. */
export interface CorrelationLink {
  correlation: CorrelationRule;
  /** Index of the reference in `correlation.rules`. */
  index: number;
  /** The field each group-by entry reads in this rule's events (aliases applied). */
  groupFields: string[];
}

/** Rules with their references resolved; build with {@link buildRuleSet}. */
export interface RuleSet {
  rules: Rule[];
  byId: Map<string, Rule>;
  /** rule id -> the correlations fed by its matches. */
  feeds: Map<string, CorrelationLink[]>;
  /** Ids of rules whose own matches become alerts. */
  alerting: Set<string>;
  /** Rules left out (unknown reference, duplicate id, cycle). */
  problems: RuleProblem[];
}

/**
 * Resolves correlation references (by id or name, across all files given),
 * applies aliases, decides which rules alert on their own (not referenced, or
 * referenced only by correlations with `generate: true`), and drops rules with
 * unknown references, duplicate ids or reference cycles, as problems.
 */
export function buildRuleSet(input: readonly Rule[]): RuleSet {
  const problems: RuleProblem[] = [];
  const byId = new Map<string, Rule>();
  const byName = new Map<string, Rule>();
  for (const r of input) {
    if (byId.has(r.id)) {
      const first = byId.get(r.id)!;
      problems.push({ file: r.file, line: r.line, reason: `duplicate rule id "${r.id}" (first in ${first.file}:${first.line}); this one is ignored` });
      continue;
    }
    byId.set(r.id, r);
    if (r.name) byName.set(r.name, r);
  }
  // Drop correlations with unknown references until nothing changes (a dropped rule may break another).
  let changed = true;
  while (changed) {
    changed = false;
    for (const r of [...byId.values()]) {
      if (r.kind !== 'correlation') continue;
      const missing = r.rules.filter((ref) => !byId.has(ref) && !byName.has(ref));
      if (missing.length > 0) {
        problems.push({ file: r.file, line: r.line, reason: `DETECTION.RULE_UNKNOWN_REFERENCE: correlation "${r.id}" references unknown rule(s) ${missing.join(', ')}` });
        byId.delete(r.id);
        if (r.name) byName.delete(r.name);
        changed = true;
      }
    }
  }
  const resolve = (ref: string): Rule => byId.get(ref) ?? byName.get(ref)!;
  // Cycles: a correlation reachable from itself.
  const visiting = new Set<string>();
  const done = new Set<string>();
  const cyclic = new Set<string>();
  const visit = (r: Rule): void => {
    if (done.has(r.id)) return;
    if (visiting.has(r.id)) {
      cyclic.add(r.id);
      return;
    }
    visiting.add(r.id);
    if (r.kind === 'correlation') for (const ref of r.rules) visit(resolve(ref));
    visiting.delete(r.id);
    done.add(r.id);
  };
  for (const r of byId.values()) visit(r);
  for (const id of cyclic) {
    const r = byId.get(id)!;
    problems.push({ file: r.file, line: r.line, reason: `correlation "${id}" is part of a reference cycle` });
    byId.delete(id);
  }
  const rules = [...byId.values()];
  const feeds = new Map<string, CorrelationLink[]>();
  const silenced = new Set<string>();
  const generating = new Set<string>();
  for (const c of rules) {
    if (c.kind !== 'correlation') continue;
    c.rules.forEach((ref, index) => {
      const target = byId.get(ref) ?? byName.get(ref);
      if (!target || !byId.has(target.id)) return;
      const groupFields = c.groupBy.map((g) => c.aliases[g]?.[ref] ?? c.aliases[g]?.[target.id] ?? (target.name ? c.aliases[g]?.[target.name] : undefined) ?? g);
      const list = feeds.get(target.id) ?? [];
      list.push({ correlation: c, index, groupFields });
      feeds.set(target.id, list);
      if (c.generate) generating.add(target.id);
      else silenced.add(target.id);
    });
  }
  const alerting = new Set(rules.filter((r) => !silenced.has(r.id) || generating.has(r.id)).map((r) => r.id));
  return { rules, byId, feeds, alerting, problems };
}
