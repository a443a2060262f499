/** Progress of a job at one moment. */
export interface ProgressReport {
  /** 0..1 */
  ratio: number;
  percent: number;
  rows: number;
  rowsPerSecond: number;
  /** Seconds to the end at the average rate so far; undefined before anything is done. */
  etaSeconds: number | undefined;
}

/**
 * Progress of a backfill: the fraction of the job's work done (time covered
 * summed over tags, or bytes of a file), rows so far and their rate since
 * the job (re)started, and the remaining time at that rate. Work done before
 * a restart counts towards the fraction but not the rate.
 */
export class Progress {
  private readonly startedAt: number;
  private rows = 0;

  constructor(
    private readonly total: number,
    private readonly startDone: number,
    private readonly now: () => number = Date.now,
  ) {
    this.startedAt = now();
  }

  /** Adds rows read. */
  addRows(n: number): void {
    this.rows += n;
  }

  /** The report for `done` units of work out of the total. */
  report(done: number): ProgressReport {
    const ratio = this.total > 0 ? Math.min(1, Math.max(0, done / this.total)) : 1;
    const seconds = Math.max(0.001, (this.now() - this.startedAt) / 1000);
    const doneHere = done - this.startDone;
    const rate = doneHere / seconds;
    const etaSeconds = ratio >= 1 ? 0 : rate > 0 ? (this.total - done) / rate : undefined;
    return { ratio, percent: Math.round(ratio * 1000) / 10, rows: this.rows, rowsPerSecond: Math.round(this.rows / seconds), etaSeconds: etaSeconds === undefined ? undefined : Math.round(etaSeconds) };
  }
}
