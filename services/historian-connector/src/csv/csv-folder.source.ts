import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';
import type { JsonValue } from '@weir/contracts';
import type { CheckResult } from '@weir/observability';
import type { CsvSourceSettings } from '../config';
import { Progress } from '../core/progress';
import { sleep } from '../core/rate-limiter';
import type { HistorianSource, SourceContext, SourceSample } from '../core/source';
import { rowMapper, splitLine, type RowResult } from './csv-format';

/** What the spool keeps per file (key `file:<source>:<name>`). */
export interface FileCheckpoint {
  size: number;
  mtimeMs: number;
  /** Last physical line (1-based, header included) whose samples are durable. */
  line: number;
  done: boolean;
  badRows: number;
  /** Why the whole file could not be read, when it could not. */
  failed?: string;
}

/** Spool state key of a file's checkpoint. */
export const fileKey = (source: string, name: string): string => `file:${source}:${name}`;

/** Bad rows logged one by one per file; after that only counted (and summed up at the end). */
const LOGGED_BAD_ROWS = 20;

/**
 * Lines of a stream with their numbers (1-based): chunks are read with the
 * stream's own back-pressure and cut at `\n` (`\r\n` too), so memory is one
 * chunk and one line whatever the file size. A UTF-8 BOM is dropped.
 */
export async function* readLines(stream: AsyncIterable<Buffer>): AsyncGenerator<{ line: string; no: number }> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  let no = 0;
  for await (const chunk of stream) {
    const text = rest + decoder.write(chunk);
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) break;
      let line = text.slice(start, nl);
      if (line.endsWith('\r')) line = line.slice(0, -1);
      if (++no === 1 && line.charCodeAt(0) === 0xfeff) line = line.slice(1);
      yield { line, no };
      start = nl + 1;
    }
    rest = text.slice(start);
  }
  rest += decoder.end();
  if (rest.endsWith('\r')) rest = rest.slice(0, -1);
  if (rest.length > 0) {
    if (++no === 1 && rest.charCodeAt(0) === 0xfeff) rest = rest.slice(1);
    yield { line: rest, no };
  }
}

/**
 * A drop folder of CSV/TSV exports (plain or gzip), tall or wide. Files are
 * read when their size has settled, oldest first, each as a job with
 * progress; every write carries the file's line checkpoint, so a restart
 * resumes after the last durable line and a finished file is not read again
 * (unless its size or time changes: then it is read again whole). Bad rows
 * are reported with file and line, counted and skipped.
 */
export class CsvFolderSource implements HistorianSource {
  readonly id: string;
  readonly type = 'csv' as const;
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  private readonly seen = new Map<string, { size: number; mtimeMs: number; since: number }>();
  private lastError: string | undefined;
  private scanned = false;

  constructor(
    private readonly settings: CsvSourceSettings,
    private readonly ctx: SourceContext,
  ) {
    this.id = settings.id;
  }

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.abort.abort(new Error('stopping'));
    await this.loop;
  }

  health(): CheckResult {
    if (this.lastError) return { ok: false, detail: this.lastError };
    return { ok: this.scanned, detail: this.scanned ? `watching ${this.settings.dir}` : 'first scan pending' };
  }

  /** The checkpoint of a file, if the spool has one. */
  checkpoint(name: string): FileCheckpoint | undefined {
    const v = this.ctx.spool.getState(fileKey(this.id, name));
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as unknown as FileCheckpoint) : undefined;
  }

  private async run(): Promise<void> {
    const include = new RegExp(this.settings.include);
    while (!this.abort.signal.aborted) {
      try {
        const entries = await readdir(this.settings.dir, { withFileTypes: true });
        const files: Array<{ name: string; size: number; mtimeMs: number }> = [];
        for (const e of entries) {
          if (!e.isFile() || !include.test(e.name)) continue;
          const st = await stat(join(this.settings.dir, e.name)).catch(() => undefined);
          if (st) files.push({ name: e.name, size: st.size, mtimeMs: st.mtimeMs });
        }
        files.sort((a, b) => a.mtimeMs - b.mtimeMs || a.name.localeCompare(b.name));
        this.scanned = true;
        this.lastError = undefined;
        for (const f of files) {
          if (this.abort.signal.aborted) return;
          const cp = this.checkpoint(f.name);
          if (cp?.done && cp.size === f.size && cp.mtimeMs === f.mtimeMs) continue;
          if (!this.settled(f)) continue;
          await this.readFile(f, cp);
        }
      } catch (err) {
        if (this.abort.signal.aborted) return;
        this.lastError = `cannot read the folder ${this.settings.dir}: ${String(err instanceof Error ? err.message : err)}`;
        this.ctx.logger.warn({ source: this.id, err: this.lastError }, 'scanning the drop folder failed; retried');
      }
      await sleep(this.settings.pollInterval, this.abort.signal).catch(() => undefined);
    }
  }

  /** True once a file's size and time have stayed the same for `settleTime` (it is no longer being written). */
  private settled(f: { name: string; size: number; mtimeMs: number }): boolean {
    const now = Date.now();
    const prev = this.seen.get(f.name);
    if (!prev || prev.size !== f.size || prev.mtimeMs !== f.mtimeMs) {
      this.seen.set(f.name, { size: f.size, mtimeMs: f.mtimeMs, since: now });
      // Already old when first seen (present at start): no need to wait a round.
      return now - f.mtimeMs >= this.settings.settleTime;
    }
    return now - prev.since >= this.settings.settleTime || now - f.mtimeMs >= this.settings.settleTime;
  }

  private async readFile(f: { name: string; size: number; mtimeMs: number }, cp: FileCheckpoint | undefined): Promise<void> {
    const path = join(this.settings.dir, f.name);
    const key = fileKey(this.id, f.name);
    const sameFile = cp !== undefined && cp.size === f.size && cp.mtimeMs === f.mtimeMs;
    if (cp && !sameFile) this.ctx.logger.warn({ source: this.id, file: f.name, before: { size: cp.size, line: cp.line }, now: { size: f.size } }, 'a file read before has changed; reading it again from the start');
    const skipTo = sameFile ? cp.line : 0;
    let badRows = sameFile ? cp.badRows : 0;
    const checkpoint = (line: number, done: boolean, failed?: string): JsonValue => ({ size: f.size, mtimeMs: f.mtimeMs, line, done, badRows, ...(failed ? { failed } : {}) });
    const delimiter = this.settings.delimiter === 'auto' ? (/\.tsv(\.gz)?$/i.test(f.name) ? '\t' : ',') : this.settings.delimiter;
    const raw = createReadStream(path, { highWaterMark: 256 * 1024 });
    const gz = /\.gz$/i.test(f.name);
    const stream = gz ? raw.pipe(createGunzip()) : raw;
    // pipe() does not forward a read error of the file to the gunzip stream.
    if (gz) raw.on('error', (err) => stream.destroy(err));
    const label = { source: this.id, job: f.name };
    const progress = new Progress(f.size, 0);
    const report = (): void => {
      const r = progress.report(raw.bytesRead);
      this.ctx.metrics.jobProgress.set(label, r.ratio);
      this.ctx.metrics.jobRate.set(label, r.rowsPerSecond);
      this.ctx.metrics.jobEta.set(label, r.etaSeconds ?? -1);
      this.ctx.logger.info({ source: this.id, file: f.name, percent: r.percent, rows: r.rows, rowsPerSecond: r.rowsPerSecond, etaSeconds: r.etaSeconds, badRows }, 'file progress');
    };
    const timer = setInterval(report, this.ctx.progressIntervalMs);
    timer.unref();
    this.ctx.logger.info({ source: this.id, file: f.name, bytes: f.size, resumeAfterLine: skipTo }, 'reading file');

    let map: ((fields: readonly string[]) => RowResult) | undefined;
    let batch: SourceSample[] = [];
    let rows = 0;
    let lastLine = skipTo;
    const flush = async (done: boolean): Promise<void> => {
      if (rows > 0) {
        await this.ctx.limiter.acquire('backfill', this.abort.signal);
        this.ctx.limiter.charge(rows);
      }
      await this.ctx.writer.write(batch, { [key]: checkpoint(lastLine, done) });
      this.ctx.metrics.samples.inc({ source: this.id, kind: 'file' }, batch.length);
      this.ctx.metrics.jobRows.inc(label, rows);
      progress.addRows(rows);
      batch = [];
      rows = 0;
    };
    const bad = (no: number, problem: string): void => {
      badRows++;
      this.ctx.metrics.badInput.inc({ source: this.id, code: 'HISTORIAN.BAD_ROW' });
      if (badRows <= LOGGED_BAD_ROWS) this.ctx.logger.warn({ source: this.id, file: f.name, line: no, code: 'HISTORIAN.BAD_ROW', problem }, `HISTORIAN.BAD_ROW: ${f.name}:${no}: ${problem}; row skipped`);
    };
    try {
      for await (const { line, no } of readLines(stream)) {
        if (no === 1) {
          const header = splitLine(line, delimiter);
          if (typeof header === 'string') throw new Error(`header: ${header}`);
          map = rowMapper(this.settings, header);
          continue;
        }
        if (no <= skipTo) continue;
        lastLine = no;
        if (line.trim() === '') continue;
        const fields = splitLine(line, delimiter);
        if (typeof fields === 'string') {
          bad(no, fields);
          continue;
        }
        const r = map!(fields);
        if (!r.ok) {
          bad(no, r.problem);
          continue;
        }
        if (r.problems) for (const p of r.problems) bad(no, p);
        for (const s of r.samples) batch.push(s);
        rows++;
        if (rows >= this.settings.batchRows || batch.length >= this.settings.batchRows) {
          await flush(false);
          if (this.abort.signal.aborted) return;
        }
      }
      if (!map) throw new Error('the file is empty (no header line)');
      await flush(true);
      report();
      this.ctx.metrics.files.inc({ source: this.id, outcome: badRows > 0 ? 'with_bad_rows' : 'ok' });
      if (badRows > LOGGED_BAD_ROWS) this.ctx.logger.warn({ source: this.id, file: f.name, badRows, logged: LOGGED_BAD_ROWS }, 'more bad rows than logged; see weir_historian_bad_input_total');
      this.ctx.logger.info({ source: this.id, file: f.name, lines: lastLine, badRows }, 'file read');
    } catch (err) {
      if (this.abort.signal.aborted) return;
      const problem = String(err instanceof Error ? err.message : err);
      this.ctx.metrics.badInput.inc({ source: this.id, code: 'HISTORIAN.BAD_FILE' });
      this.ctx.metrics.files.inc({ source: this.id, outcome: 'failed' });
      this.ctx.logger.error({ source: this.id, file: f.name, line: lastLine, code: 'HISTORIAN.BAD_FILE', problem }, `HISTORIAN.BAD_FILE: ${f.name}: ${problem}; what was read before stays, the file is not read again until it changes`);
      // What was read before the failure is kept; the file is marked so it is not read in a loop.
      await this.ctx.writer.write(batch, { [key]: checkpoint(lastLine, true, problem) });
      this.ctx.metrics.samples.inc({ source: this.id, kind: 'file' }, batch.length);
    } finally {
      clearInterval(timer);
      raw.destroy();
    }
  }
}
