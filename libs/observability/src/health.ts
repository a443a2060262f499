/** The outcome of one health check. */
export interface CheckResult {
  ok: boolean;
  /** Short reason, shown on failure (and on success if useful: "3 of 3 partitions assigned"). */
  detail?: string;
}

/** A named check; `readiness` checks gate traffic, `liveness` checks say whether to restart. */
export interface HealthCheck {
  name: string;
  kind: 'liveness' | 'readiness';
  check: () => CheckResult | Promise<CheckResult>;
}

/** A health report as served on /health/live and /health/ready. */
export interface HealthReport {
  status: 'ok' | 'fail';
  checks: Record<string, CheckResult>;
}

/** Holds a service's health checks; a check that throws or takes longer than the timeout fails. */
export class HealthRegistry {
  private readonly checks: HealthCheck[] = [];

  constructor(private readonly timeoutMs = 5000) {}

  /** Adds a check; names must be unique. */
  register(check: HealthCheck): void {
    if (this.checks.some((c) => c.name === check.name)) throw new Error(`OBSERVABILITY.DUPLICATE_CHECK: ${check.name}`);
    this.checks.push(check);
  }

  /** Runs the checks of a kind (readiness includes liveness: a dead service is not ready). */
  async report(kind: 'liveness' | 'readiness'): Promise<HealthReport> {
    const selected = this.checks.filter((c) => kind === 'readiness' || c.kind === 'liveness');
    const results = await Promise.all(selected.map(async (c) => [c.name, await this.run(c)] as const));
    const checks = Object.fromEntries(results);
    return { status: results.every(([, r]) => r.ok) ? 'ok' : 'fail', checks };
  }

  private async run(c: HealthCheck): Promise<CheckResult> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<CheckResult>((resolve) => {
        timer = setTimeout(() => resolve({ ok: false, detail: `no answer within ${this.timeoutMs} ms` }), this.timeoutMs);
      });
      return await Promise.race([Promise.resolve(c.check()), timeout]);
    } catch (err) {
      return { ok: false, detail: (err as Error).message };
    } finally {
      clearTimeout(timer);
    }
  }
}
