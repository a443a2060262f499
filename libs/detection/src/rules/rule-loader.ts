import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseRuleFile } from '../sigma/sigma-rule.parser';
import type { Rule, RuleProblem } from '../sigma/sigma-rule';

/** The folder of Weir's built-in ICS rules (Sigma YAML with Weir extensions), shipped with this package. */
export const BUILTIN_RULES_DIR = resolve(__dirname, '../../rules');

/** The rule files (`*.yml`, `*.yaml`) under a folder, recursively, sorted by path. */
export function listRuleFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      if (name.startsWith('.')) continue;
      const p = join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else if (/\.ya?ml$/i.test(name)) out.push(p);
    }
  };
  walk(dir);
  return out;
}

/**
 * Reads and parses every rule file under the given folders. A file or rule
 * that cannot be read or parsed becomes a problem (file, line, reason); the
 * rest load. File names in rules and problems are relative to their folder.
 */
export function loadRuleDirectories(dirs: readonly string[]): { rules: Rule[]; problems: RuleProblem[]; files: number } {
  const rules: Rule[] = [];
  const problems: RuleProblem[] = [];
  let files = 0;
  for (const dir of dirs) {
    let list: string[];
    try {
      list = listRuleFiles(dir);
    } catch (err) {
      problems.push({ file: dir, reason: `cannot read the rules folder: ${(err as Error).message}` });
      continue;
    }
    for (const path of list) {
      files++;
      const name = relative(dir, path);
      try {
        const r = parseRuleFile(readFileSync(path, 'utf8'), name);
        rules.push(...r.rules);
        problems.push(...r.problems);
      } catch (err) {
        problems.push({ file: name, reason: `cannot read: ${(err as Error).message}` });
      }
    }
  }
  return { rules, problems, files };
}
