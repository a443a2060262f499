import type { Logger } from './logger';

/** Something to stop on shutdown, in reverse order of registration. */
export interface ShutdownStep {
  name: string;
  stop: () => Promise<void> | void;
}

/**
 * Runs registered stop steps once, last registered first (so consumers stop
 * before the producers and pools they use), on SIGTERM/SIGINT or when called.
 * A step that hangs past the deadline is abandoned and the process exits non-zero.
 */
export class GracefulShutdown {
  private readonly steps: ShutdownStep[] = [];
  private running: Promise<void> | undefined;

  constructor(private readonly logger: Logger, private readonly timeoutMs = 30_000) {}

  /** Adds a step. */
  add(step: ShutdownStep): void {
    this.steps.push(step);
  }

  /**
   * Stops on SIGTERM and SIGINT, then exits the process. The listeners stay
   * for the whole shutdown: with `once`, a second signal (or a library that
   * re-raises one) would find no listener and kill the process mid-shutdown.
   */
  installSignalHandlers(): void {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.on(signal, () => {
        if (this.running) {
          this.logger.info({ signal }, 'already shutting down');
          return;
        }
        this.logger.info({ signal }, 'shutting down');
        this.shutdown().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      });
    }
  }

  /** Runs every step once; later calls wait for the first. */
  shutdown(): Promise<void> {
    this.running ??= this.runSteps();
    return this.running;
  }

  private async runSteps(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`shutdown took longer than ${this.timeoutMs} ms`)), this.timeoutMs);
      timer.unref();
    });
    try {
      await Promise.race([this.stopAll(), deadline]);
    } catch (err) {
      this.logger.error({ err }, 'shutdown did not complete');
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  private async stopAll(): Promise<void> {
    let failed = false;
    for (const step of [...this.steps].reverse()) {
      try {
        await step.stop();
        this.logger.info({ step: step.name }, 'stopped');
      } catch (err) {
        failed = true;
        this.logger.error({ err, step: step.name }, 'stop failed');
      }
    }
    if (failed) throw new Error('one or more shutdown steps failed');
  }
}
