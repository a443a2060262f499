import type { JsonValue } from '@weir/contracts';
import type { CheckResult } from '@weir/observability';
import type { JobSettings } from '../config';
import { errorCode } from '../errors';
import { Progress } from './progress';
import { sleep, type Priority } from './rate-limiter';
import type { HistorianSource, SourceContext, SourceSample } from './source';

/** A tag of a time-range historian (OPC UA HA, PI): `key` keys its checkpoints, `nodeId` is what samples carry. */
export interface TagRef {
  key: string;
  nodeId: string;
  browsePath?: string;
}

/** One tag's part of one answer of the historian. */
export interface RangePage {
  key: string;
  /** Samples with source time in (after, to], oldest first. */
  samples: SourceSample[];
  /** Source time (ms) of the last sample, if any. */
  lastTime?: number;
  /** The tag has nothing more up to `to`. */
  done: boolean;
  /** Set when the tag failed (its checkpoint does not move). */
  error?: string;
}

/**
 * A historian that answers "raw values of these tags in (after, to]". The
 * iterator yields one answer at a time and makes the next call only when
 * asked for the next answer, so the runner's rate limit and the spool's
 * back-pressure hold the historian back and memory is one answer.
 */
export interface HistoryBackend {
  /** Connects (if needed) and returns the tags to read. Throws when the historian cannot be reached. */
  connect(signal: AbortSignal): Promise<TagRef[]>;
  read(tags: readonly TagRef[], after: ReadonlyMap<string, number>, to: number, signal: AbortSignal): AsyncIterable<RangePage[]>;
  /** The connection broke (a call failed): the next `connect` opens a new one. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

/** Options of a range source. */
export interface RangeSourceOptions {
  id: string;
  type: 'opcua' | 'piwebapi';
  live: { enabled: boolean; pollInterval: number; delay: number; initialLookback: number };
  /** Longest range of one read. */
  windowMs: number;
  jobs: readonly JobSettings[];
}

/** Samples per spool write; keeps a frame far below a segment whatever the answer size. */
const WRITE_CHUNK = 5_000;
const MAX_RETRY_MS = 30_000;

/** Spool state keys of range sources. */
export const stateKeys = {
  live: (source: string, key: string) => `cp:${source}:${key}`,
  liveStart: (source: string) => `livestart:${source}`,
  job: (job: string, key: string) => `job:${job}:${key}`,
  jobDone: (job: string) => `jobdone:${job}`,
};

/**
 * Runs a time-range historian: a live loop that polls (checkpoint, now −
 * delay] for every tag, and one loop per backfill job that walks its range
 * window by window. Every write carries the checkpoints it advances, so a
 * restart resumes exactly; live reads take the rate limit before backfill
 * reads, so a backfill never holds live data back. A job's range ends where
 * live reading of the source began, so the two never read the same value.
 */
export class RangeSource implements HistorianSource {
  readonly id: string;
  readonly type: 'opcua' | 'piwebapi';
  private readonly abort = new AbortController();
  private loops: Promise<void>[] = [];
  private tags: TagRef[] | undefined;
  private connecting: Promise<TagRef[]> | undefined;
  private lastError: string | undefined;
  private liveStart: number | undefined;

  constructor(
    private readonly options: RangeSourceOptions,
    private readonly backend: HistoryBackend,
    private readonly ctx: SourceContext,
  ) {
    this.id = options.id;
    this.type = options.type;
  }

  start(): void {
    if (this.options.live.enabled) {
      const stored = this.ctx.spool.getState(stateKeys.liveStart(this.id));
      this.liveStart = typeof stored === 'number' ? stored : Date.now() - this.options.live.initialLookback;
      if (typeof stored !== 'number') this.loops.push(this.ctx.spool.setState(stateKeys.liveStart(this.id), this.liveStart).catch(() => undefined));
      this.loops.push(this.guard('live', () => this.liveLoop()));
    }
    for (const job of this.options.jobs) this.loops.push(this.guard(`job ${job.id}`, () => this.jobLoop(job)));
  }

  async stop(): Promise<void> {
    this.abort.abort(new Error('stopping'));
    await Promise.all(this.loops);
    await this.backend.close();
  }

  health(): CheckResult {
    if (!this.tags) return { ok: false, detail: this.lastError ? `not connected: ${this.lastError}` : 'connecting' };
    if (this.lastError) return { ok: false, detail: this.lastError };
    return { ok: true, detail: `${this.tags.length} tags` };
  }

  private get stopping(): boolean {
    return this.abort.signal.aborted;
  }

  private async guard(name: string, loop: () => Promise<void>): Promise<void> {
    try {
      await loop();
    } catch (err) {
      if (!this.stopping) this.ctx.logger.error({ source: this.id, loop: name, err: String(err) }, 'a read loop ended with an error');
    }
  }

  /** The tags, connecting (once, shared by all loops) when there is no connection. */
  private async ensureTags(): Promise<TagRef[]> {
    if (this.tags) return this.tags;
    this.connecting ??= this.backend
      .connect(this.abort.signal)
      .then((tags) => {
        this.tags = tags;
        this.lastError = undefined;
        this.ctx.metrics.tags.set({ source: this.id }, tags.length);
        this.ctx.logger.info({ source: this.id, tags: tags.length }, 'historian connected');
        return tags;
      })
      .catch((err: unknown) => {
        // Counted like a failed read: refused credentials or an unreachable historian fail here, before any read, on every retry.
        this.ctx.metrics.requests.inc({ source: this.id, outcome: 'error' });
        throw err;
      })
      .finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  /** After a failed call: forget the connection so the next round reconnects. */
  private async broken(err: unknown): Promise<void> {
    this.lastError = String(err instanceof Error ? err.message : err);
    this.tags = undefined;
    await this.backend.reset().catch(() => undefined);
  }

  private async liveLoop(): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      try {
        const tags = await this.ensureTags();
        const to = Date.now() - this.options.live.delay;
        const after = new Map<string, number>();
        for (const t of tags) {
          const cp = this.ctx.spool.getState(stateKeys.live(this.id, t.key));
          after.set(t.key, typeof cp === 'number' ? cp : this.liveStart!);
        }
        await this.readRange(tags, after, to, 'live', (key) => stateKeys.live(this.id, key));
        let oldest = to;
        for (const t of tags) {
          const cp = this.ctx.spool.getState(stateKeys.live(this.id, t.key));
          if (typeof cp === 'number') oldest = Math.min(oldest, cp);
        }
        this.ctx.metrics.liveLag.set({ source: this.id }, Math.max(0, (Date.now() - oldest) / 1000));
        failures = 0;
        // A full pass worked: an earlier failure no longer says anything about the source.
        this.lastError = undefined;
        await sleep(this.options.live.pollInterval, this.abort.signal);
      } catch (err) {
        if (this.stopping) return;
        await this.backoff(err, ++failures, 'live read failed; retried');
      }
    }
  }

  private async jobLoop(job: JobSettings): Promise<void> {
    if (this.ctx.spool.getState(stateKeys.jobDone(job.id)) === true) {
      this.ctx.logger.info({ source: this.id, job: job.id }, 'job already finished');
      this.ctx.metrics.jobProgress.set({ source: this.id, job: job.id }, 1);
      return;
    }
    const to = this.liveStart !== undefined ? Math.min(job.to, this.liveStart) : job.to;
    let failures = 0;
    let progress: Progress | undefined;
    let timer: NodeJS.Timeout | undefined;
    try {
      while (!this.stopping) {
        try {
          const tags = await this.ensureTags();
          const reached = (): Map<string, number> => {
            const m = new Map<string, number>();
            for (const t of tags) {
              const v = this.ctx.spool.getState(stateKeys.job(job.id, t.key));
              m.set(t.key, typeof v === 'number' ? Math.max(job.from, Math.min(v, to)) : job.from);
            }
            return m;
          };
          const total = tags.length * (to - job.from);
          const doneOf = (): number => [...reached().values()].reduce((a, v) => a + (v - job.from), 0);
          if (!progress) {
            progress = new Progress(total, doneOf());
            const p = progress;
            const report = (): void => {
              const r = p.report(doneOf());
              this.ctx.metrics.jobProgress.set({ source: this.id, job: job.id }, r.ratio);
              this.ctx.metrics.jobRate.set({ source: this.id, job: job.id }, r.rowsPerSecond);
              this.ctx.metrics.jobEta.set({ source: this.id, job: job.id }, r.etaSeconds ?? -1);
              this.ctx.logger.info({ source: this.id, job: job.id, percent: r.percent, rows: r.rows, rowsPerSecond: r.rowsPerSecond, etaSeconds: r.etaSeconds }, 'backfill progress');
            };
            report();
            timer = setInterval(report, this.ctx.progressIntervalMs);
            timer.unref();
          }
          const p = progress;
          await this.readRange(tags, reached(), to, 'backfill', (key) => stateKeys.job(job.id, key), (n) => {
            p.addRows(n);
            this.ctx.metrics.jobRows.inc({ source: this.id, job: job.id }, n);
          });
          if ([...reached().values()].every((v) => v >= to)) {
            this.lastError = undefined;
            await this.ctx.spool.setState(stateKeys.jobDone(job.id), true);
            const r = p.report(doneOf());
            this.ctx.metrics.jobProgress.set({ source: this.id, job: job.id }, 1);
            this.ctx.metrics.jobEta.set({ source: this.id, job: job.id }, 0);
            this.ctx.logger.info({ source: this.id, job: job.id, rows: r.rows, rowsPerSecond: r.rowsPerSecond, from: new Date(job.from).toISOString(), to: new Date(to).toISOString() }, 'backfill finished');
            return;
          }
          // Some tags failed this round: wait, then try those again.
          await this.backoff(new Error('some tags could not be read'), ++failures, 'backfill round incomplete; retried');
        } catch (err) {
          if (this.stopping) return;
          await this.backoff(err, ++failures, 'backfill read failed; retried');
        }
      }
    } finally {
      clearInterval(timer);
    }
  }

  private async backoff(err: unknown, failures: number, message: string): Promise<void> {
    const delay = Math.min(MAX_RETRY_MS, this.ctx.retryDelayMs * 2 ** Math.min(10, failures - 1));
    this.lastError = String(err instanceof Error ? err.message : err);
    this.ctx.logger.warn({ source: this.id, err: this.lastError, code: errorCode(err), retryInMs: delay }, message);
    await sleep(delay, this.abort.signal).catch(() => undefined);
  }

  /**
   * Reads (after, to] for the tags, window by window, writing each answer
   * with the checkpoints it advances. A tag that fails keeps its checkpoint
   * and is skipped for the rest of this pass. Throws when a call fails as a
   * whole (the connection is reset first).
   */
  private async readRange(tags: readonly TagRef[], after: Map<string, number>, to: number, priority: Priority, keyOf: (key: string) => string, onRows?: (n: number) => void): Promise<void> {
    const failed = new Set<string>();
    const carry = new Map<string, SourceSample[]>();
    for (;;) {
      const open = tags.filter((t) => !failed.has(t.key) && after.get(t.key)! < to);
      if (open.length === 0 || this.stopping) return;
      const windowEnd = Math.min(to, Math.min(...open.map((t) => after.get(t.key)!)) + this.options.windowMs);
      const batch = open.filter((t) => after.get(t.key)! < windowEnd);
      const iterator = this.backend.read(batch, after, windowEnd, this.abort.signal)[Symbol.asyncIterator]();
      try {
        for (;;) {
          await this.ctx.limiter.acquire(priority, this.abort.signal);
          let next: IteratorResult<RangePage[]>;
          try {
            next = await iterator.next();
          } catch (err) {
            this.ctx.metrics.requests.inc({ source: this.id, outcome: 'error' });
            await this.broken(err);
            throw err;
          }
          if (next.done) break;
          this.ctx.metrics.requests.inc({ source: this.id, outcome: 'ok' });
          const page = next.value;
          let values = 0;
          for (const p of page) values += p.samples.length;
          this.ctx.limiter.charge(values);
          await this.writePage(page, windowEnd, keyOf, priority, failed, after, carry);
          onRows?.(values);
        }
      } finally {
        await iterator.return?.();
      }
    }
  }

  /**
   * Writes one answer in chunks, each with the checkpoints of the tags it
   * covers. Of a tag that is not done, the values at its last timestamp are
   * held back (in `carry`) until the next answer: more values may share that
   * timestamp there, and a checkpoint is a time, so it may only pass a
   * timestamp whose values are all written.
   */
  private async writePage(page: RangePage[], windowEnd: number, keyOf: (key: string) => string, priority: Priority, failed: Set<string>, after: Map<string, number>, carry: Map<string, SourceSample[]>): Promise<void> {
    let chunk: SourceSample[] = [];
    let state: Record<string, JsonValue> = {};
    const flush = async (): Promise<void> => {
      if (chunk.length === 0 && Object.keys(state).length === 0) return;
      await this.ctx.writer.write(chunk, state);
      this.ctx.metrics.samples.inc({ source: this.id, kind: priority }, chunk.length);
      chunk = [];
      state = {};
    };
    for (const p of page) {
      const held = carry.get(p.key);
      carry.delete(p.key);
      if (p.error !== undefined) {
        failed.add(p.key);
        this.ctx.metrics.badInput.inc({ source: this.id, code: 'HISTORIAN.HISTORY_READ_FAILED' });
        this.ctx.logger.warn({ source: this.id, tag: p.key, status: p.error }, 'reading the history of a tag failed; it is retried later, the others go on');
        continue;
      }
      let samples = held ? [...held, ...p.samples] : p.samples;
      let lastTime = p.lastTime ?? (held ? Date.parse(held[held.length - 1]!.sourceTime) : undefined);
      if (!p.done && lastTime !== undefined) {
        let cut = samples.length;
        while (cut > 0 && Date.parse(samples[cut - 1]!.sourceTime) === lastTime) cut--;
        carry.set(p.key, samples.slice(cut));
        samples = samples.slice(0, cut);
        lastTime = cut > 0 ? Date.parse(samples[cut - 1]!.sourceTime) : undefined;
      }
      // Cut a tag's values into chunks: each chunk's checkpoint is the time of its last value.
      for (let i = 0; i < samples.length; ) {
        const room = WRITE_CHUNK - chunk.length;
        const part = samples.slice(i, i + room);
        for (const s of part) chunk.push(s);
        i += part.length;
        const t = i === samples.length && lastTime !== undefined ? lastTime : Date.parse(part[part.length - 1]!.sourceTime);
        state[keyOf(p.key)] = t;
        after.set(p.key, t);
        if (chunk.length >= WRITE_CHUNK) await flush();
      }
      if (p.done) {
        state[keyOf(p.key)] = windowEnd;
        after.set(p.key, windowEnd);
      }
    }
    await flush();
  }
}
