import { Injectable } from '@nestjs/common';
import type { HealthCheck } from '@weir/observability';
import { describeError } from './sink-error';

/**
 * Whether the last database write succeeded. While writes fail (database
 * down) readiness fails, so the sink is visibly not keeping up; consumption
 * retries on its own and readiness returns with the first successful write.
 */
@Injectable()
export class WriteHealth {
  private failure: { since: number; error: string } | undefined;

  /** Records a successful write. */
  ok(): void {
    this.failure = undefined;
  }

  /** Records a failed write. */
  failed(err: unknown): void {
    this.failure ??= { since: Date.now(), error: describeError(err) };
    this.failure.error = describeError(err);
  }

  /** True while writes fail. */
  get failing(): boolean {
    return this.failure !== undefined;
  }

  /** A readiness check named `database-writes`. */
  healthCheck(): HealthCheck {
    return {
      name: 'database-writes',
      kind: 'readiness',
      check: () =>
        this.failure ? { ok: false, detail: `writes failing for ${Math.round((Date.now() - this.failure.since) / 1000)} s: ${this.failure.error}` } : { ok: true, detail: 'last write succeeded' },
    };
  }
}
