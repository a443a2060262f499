import { BUILTIN_RULES_DIR, buildRuleSet, loadRuleDirectories, parseRuleFile, type Rule, type RuleProblem, type RuleSet } from '@weir/detection';
import { ApiError, type ParamIssue } from '../common/api-error';

/** The file name request rules carry in problems and alert evidence. */
export const REQUEST_RULES_FILE = 'request';

/** What a hunt runs: the rule set, where each rule came from, and the request's rule text (for input selection). */
export interface HuntRules {
  ruleSet: RuleSet;
  origin: Map<string, 'builtin' | 'request'>;
  sigmaText: string | undefined;
}

/** A rule problem as a request issue: the parameter, the line in the rule text, the parser's reason. */
type RuleIssue = ParamIssue & { line?: number };

let builtin: { rules: Rule[]; problems: RuleProblem[] } | undefined;

/** The built-in rules (parsed once per process). */
export function builtinRules(): Rule[] {
  builtin ??= loadRuleDirectories([BUILTIN_RULES_DIR]);
  return builtin.rules;
}

function invalid(message: string, issues: RuleIssue[]): ApiError {
  return new ApiError('REQUEST.INVALID', `${message}: ${issues.map((i) => `${i.param}${i.line !== undefined ? ` line ${i.line}` : ''}: ${i.problem}`).join('; ')}`, { issues });
}

/**
 * Builds the rule set of a hunt: the Sigma rules of the request (detections and correlations, several YAML
 * documents) and the built-in rules it names (`*` for all). Built-in rules that a chosen correlation references
 * (its building blocks) come along, as in the live rule set; a request rule with the id or name of a built-in rule
 * replaces it (try a changed rule before it goes live). Anything that does not parse or resolve is a 400 naming
 * the line and the parser's reason.
 */
export function huntRules(ids: readonly string[] | undefined, sigma: string | undefined): HuntRules {
  const issues: RuleIssue[] = [];
  const requestRules: Rule[] = [];
  if (sigma !== undefined) {
    const parsed = parseRuleFile(sigma, REQUEST_RULES_FILE);
    for (const p of parsed.problems) issues.push({ param: 'sigma', ...(p.line !== undefined ? { line: p.line } : {}), problem: p.reason });
    requestRules.push(...parsed.rules);
    if (parsed.problems.length === 0 && parsed.rules.length === 0) issues.push({ param: 'sigma', problem: 'holds no rule' });
  }
  if (issues.length > 0) throw invalid('the rules do not parse', issues);
  const all = builtinRules();
  const byRef = new Map<string, Rule>();
  for (const r of all) {
    byRef.set(r.id, r);
    if (r.name) byRef.set(r.name, r);
  }
  const overridden = new Set<string>();
  for (const r of requestRules) {
    overridden.add(r.id);
    if (r.name) overridden.add(r.name);
  }
  const chosen = new Map<string, Rule>();
  const take = (r: Rule): void => {
    if (overridden.has(r.id) || (r.name !== undefined && overridden.has(r.name))) return;
    chosen.set(r.id, r);
  };
  for (const id of ids ?? []) {
    if (id === '*') all.forEach(take);
    else if (byRef.has(id)) take(byRef.get(id)!);
    else issues.push({ param: 'rules', problem: `no built-in rule has the id or name ${JSON.stringify(id)}` });
  }
  if (issues.length > 0) throw invalid('unknown rules', issues);
  // Building blocks: what the chosen and the request's correlations reference, transitively.
  const pending = [...chosen.values(), ...requestRules];
  const known = (ref: string): boolean => requestRules.some((r) => r.id === ref || r.name === ref) || [...chosen.values()].some((r) => r.id === ref || r.name === ref);
  while (pending.length > 0) {
    const r = pending.pop()!;
    if (r.kind !== 'correlation') continue;
    for (const ref of r.rules) {
      if (known(ref)) continue;
      const b = byRef.get(ref);
      if (b && !chosen.has(b.id)) {
        take(b);
        if (chosen.has(b.id)) pending.push(b);
      }
    }
  }
  const origin = new Map<string, 'builtin' | 'request'>();
  for (const r of chosen.values()) origin.set(r.id, 'builtin');
  for (const r of requestRules) origin.set(r.id, 'request');
  const ruleSet = buildRuleSet([...requestRules, ...chosen.values()]);
  if (ruleSet.problems.length > 0) {
    throw invalid(
      'the rules do not resolve',
      ruleSet.problems.map((p) => ({ param: p.file === REQUEST_RULES_FILE ? 'sigma' : 'rules', ...(p.line !== undefined && p.file === REQUEST_RULES_FILE ? { line: p.line } : {}), problem: p.reason })),
    );
  }
  if (ruleSet.rules.length === 0) throw invalid('no rules to run', [{ param: 'rules', problem: 'give built-in rule ids (or *) in rules, or Sigma rules in sigma' }]);
  return { ruleSet, origin, sigmaText: sigma };
}
