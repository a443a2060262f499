import type { Logger } from '@weir/observability';
import { describeError } from './sink-error';

/** A background task run every `intervalMs`, never overlapping itself. */
export interface PeriodicJobOptions {
  name: string;
  intervalMs: number;
  logger: Logger;
  run: () => Promise<void>;
  /** Called with each failure (metrics); the job runs again at its next interval. */
  onError?: (err: unknown) => void;
}

/**
 * Runs a task periodically: the next run is scheduled after the previous one
 * finished, so a slow pass never piles up behind itself; a failed pass is
 * logged and the job carries on. `stop()` waits for a pass in progress.
 */
export class PeriodicJob {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;

  constructor(private readonly options: PeriodicJobOptions) {}

  /** Schedules the first run after one interval. */
  start(): void {
    if (!this.stopped || this.options.intervalMs <= 0) return;
    this.stopped = false;
    this.schedule();
  }

  /** Runs one pass now (or waits for the one in progress); failures reject. */
  async runOnce(): Promise<void> {
    if (this.running) await this.running.catch(() => undefined);
    const pass = this.options.run();
    this.running = pass.finally(() => {
      this.running = undefined;
    });
    await pass;
  }

  /** Cancels future runs and waits for a run in progress to finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      this.runOnce()
        .catch((err: unknown) => {
          this.options.onError?.(err);
          this.options.logger.warn({ job: this.options.name, err: describeError(err) }, 'background job failed; it runs again at its next interval');
        })
        .finally(() => {
          if (!this.stopped) this.schedule();
        });
    }, this.options.intervalMs);
    this.timer.unref();
  }
}
