/** One problem with one setting. */
export interface ConfigIssue {
  /** Dotted path of the setting (`kafka.brokers`), with where it came from when known. */
  key: string;
  problem: string;
}

/** The configuration is invalid; lists every problem, not just the first. */
export class ConfigError extends Error {
  readonly code = 'CONFIG.INVALID';
  constructor(readonly issues: readonly ConfigIssue[]) {
    super(`CONFIG.INVALID: ${issues.length} problem(s) in the configuration:\n${issues.map((i) => `  - ${i.key}: ${i.problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}
