import { BUILTIN_RULES_DIR, buildRuleSet, loadRuleDirectories, type RuleProblem, type RuleSet } from '@weir/detection';
import type { Logger } from '@weir/observability';
import { watch, type FSWatcher } from 'node:fs';

/** The outcome of one (re)load. */
export interface RuleLoad {
  ruleSet: RuleSet;
  problems: RuleProblem[];
  files: number;
}

/**
 * Loads the rule folders (and the built-in rules), reports every rule that
 * does not parse with its file, line and reason, and, when watching, reloads
 * after files change; the rules that parse keep running whatever the others do.
 */
export class RuleRegistry {
  private watchers: FSWatcher[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly options: { dirs: readonly string[]; builtin: boolean; debounceMs: number; logger: Logger },
  ) {}

  /** Reads every folder now. */
  load(): RuleLoad {
    const dirs = [...(this.options.builtin ? [BUILTIN_RULES_DIR] : []), ...this.options.dirs];
    const loaded = loadRuleDirectories(dirs);
    const ruleSet = buildRuleSet(loaded.rules);
    const problems = [...loaded.problems, ...ruleSet.problems];
    for (const p of problems) this.options.logger.warn({ code: 'DETECTION.RULE_INVALID', file: p.file, line: p.line, reason: p.reason }, `rule rejected: ${p.file}${p.line ? `:${p.line}` : ''}: ${p.reason}`);
    this.options.logger.info({ rules: ruleSet.rules.length, files: loaded.files, rejected: problems.length }, 'rules loaded');
    return { ruleSet, problems, files: loaded.files };
  }

  /** Calls `onChange` with a fresh load after files under the watched folders change (debounced). */
  watch(onChange: (load: RuleLoad) => void): void {
    for (const dir of this.options.dirs) {
      const w = watch(dir, { recursive: true }, () => {
        clearTimeout(this.timer);
        this.timer = setTimeout(() => {
          try {
            onChange(this.load());
          } catch (err) {
            this.options.logger.error({ err }, 'rule reload failed; the previous rules stay in force');
          }
        }, this.options.debounceMs);
      });
      w.on('error', (err) => this.options.logger.error({ err, dir }, 'rules folder watch failed'));
      this.watchers.push(w);
    }
  }

  /** Stops watching. */
  close(): void {
    clearTimeout(this.timer);
    for (const w of this.watchers) w.close();
    this.watchers = [];
  }
}
