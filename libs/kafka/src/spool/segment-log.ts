import { mkdir, open, readdir, readFile, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeFrame, type DecodedFrame } from './frame';
import { syncDirectory } from './durable-files';
import { SpoolError } from './spool-error';

/** When appends are fsynced: per group commit (default), per append call, or never (page cache only). */
export type FsyncMode = 'batch' | 'always' | 'never';

/** One segment file: `<16-digit base LSN>.seg`, frames back to back. */
export interface Segment {
  baseLsn: number;
  path: string;
  /** Bytes written. */
  size: number;
  /** Bytes known to be durable (fsynced, or written when fsync is `never`); the forwarder reads no further. */
  durableSize: number;
  /** LSN of the last entry written; `baseLsn - 1` while empty. */
  lastLsn: number;
  /** Highest LSN of a state entry in the segment; 0 when it holds none. */
  maxStateLsn: number;
}

/** A sealed frame ready to be written, with what the log needs to know about it. */
export interface FrameToWrite {
  buf: Buffer;
  baseLsn: number;
  lastLsn: number;
  /** LSN of its last state entry, 0 if it has none. */
  maxStateLsn: number;
}

/** Where the forwarder reads next: a segment (by base LSN) and a byte offset in it. */
export interface ReadPosition {
  baseLsn: number;
  offset: number;
}

/** What recovery found. */
export interface RecoveryReport {
  segments: number;
  frames: number;
  /** LSN of the last entry recovered; 0 for an empty log. */
  lastLsn: number;
  /** Bytes cut from the tail of the last segment: a torn or unfinished last write. */
  discardedBytes: number;
  discardedReason?: string;
}

const SEGMENT_NAME = /^(\d{16})\.seg$/;

/** The file name of the segment starting at `baseLsn`. */
export function segmentFileName(baseLsn: number): string {
  return `${String(baseLsn).padStart(16, '0')}.seg`;
}

/**
 * The spool's append-only log: a directory of segment files. It recovers the log on open
 * (cutting a torn tail), writes frames in order with one fsync per call (group commit),
 * rolls to a new segment when one is full, reads frames back for the forwarder, and
 * removes whole segments from the head. It knows nothing about Kafka or acknowledgements.
 */
export class SegmentLog {
  private readonly segments: Segment[] = [];
  private handle: FileHandle | undefined;
  private reader: { baseLsn: number; handle: FileHandle } | undefined;

  private constructor(
    private readonly dir: string,
    private readonly segmentBytes: number,
    private readonly fsync: FsyncMode,
    private readonly onFsync: (seconds: number) => void,
  ) {}

  /**
   * Opens the log in `dir` and replays it: `visit` sees every intact frame in order. A frame
   * that is cut short or fails its CRC ends the log if nothing but empty segments follows it
   * (a torn last write: the tail is cut off and reported); anywhere else it is `SPOOL.CORRUPT`.
   * A gap in LSNs between segments is accepted only up to `gapToleratedThrough` (entries known
   * to be done, whose segments may have been removed).
   */
  static async recover(
    dir: string,
    options: { segmentBytes: number; fsync: FsyncMode; gapToleratedThrough: number; onFsync?: (seconds: number) => void },
    visit: (frame: DecodedFrame) => void,
  ): Promise<{ log: SegmentLog; report: RecoveryReport }> {
    await mkdir(dir, { recursive: true });
    const log = new SegmentLog(dir, options.segmentBytes, options.fsync, options.onFsync ?? (() => undefined));
    const names = (await readdir(dir)).filter((n) => SEGMENT_NAME.test(n)).sort();
    const report: RecoveryReport = { segments: 0, frames: 0, lastLsn: 0, discardedBytes: 0 };
    let expected: number | undefined;
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      const path = join(dir, name);
      const baseLsn = Number(SEGMENT_NAME.exec(name)![1]);
      if (expected !== undefined && baseLsn !== expected && !(baseLsn > expected && baseLsn - 1 <= options.gapToleratedThrough)) {
        throw new SpoolError('SPOOL.CORRUPT', `${path} starts at LSN ${baseLsn} but the log before it ends at ${expected - 1}`);
      }
      expected = baseLsn;
      const buf = await readFile(path);
      const seg: Segment = { baseLsn, path, size: 0, durableSize: 0, lastLsn: baseLsn - 1, maxStateLsn: 0 };
      let offset = 0;
      while (offset < buf.length) {
        const r = decodeFrame(buf, offset, expected);
        if (r.status !== 'ok') {
          const reason = r.status === 'incomplete' ? `frame cut short (${buf.length - offset} of ${r.needed} bytes)` : r.reason;
          const later = await Promise.all(names.slice(i + 1).map(async (n) => (await stat(join(dir, n))).size));
          if (later.some((size) => size > 0)) {
            throw new SpoolError('SPOOL.CORRUPT', `${path} is damaged at byte ${offset} (${reason}) and later segments hold data; refusing to guess (move the directory aside to start empty)`);
          }
          // A torn last write: everything from here on was never acknowledged to an appender
          // (appends resolve only after their frame is synced), so cutting it loses nothing promised.
          const handle = await open(path, 'r+');
          try {
            await handle.truncate(offset);
            if (options.fsync !== 'never') await handle.datasync();
          } finally {
            await handle.close();
          }
          for (const n of names.slice(i + 1)) await unlink(join(dir, n));
          names.length = i + 1;
          report.discardedBytes = buf.length - offset;
          report.discardedReason = reason;
          break;
        }
        const frame = r.frame;
        visit(frame);
        for (const e of frame.entries) if (e.kind === 'state') seg.maxStateLsn = e.lsn;
        offset += frame.bytes;
        expected += frame.entries.length;
        report.frames++;
      }
      seg.size = seg.durableSize = offset;
      seg.lastLsn = expected - 1;
      log.segments.push(seg);
    }
    report.segments = log.segments.length;
    report.lastLsn = log.segments.at(-1)?.lastLsn ?? 0;
    return { log, report };
  }

  /**
   * Makes the log ready for appends starting at `nextLsn`: reopens the last segment when it
   * ends right before `nextLsn`, otherwise starts a new one. What recovery read is fsynced
   * first: a killed process leaves written but unsynced frames in the page cache, and the
   * forwarder must not send anything a power loss could still take back.
   */
  async startWriting(nextLsn: number): Promise<void> {
    if (this.fsync !== 'never') {
      for (const seg of this.segments) {
        const h = await open(seg.path, 'r+');
        try {
          await h.datasync();
        } finally {
          await h.close();
        }
      }
    }
    const last = this.segments.at(-1);
    if (last && last.lastLsn + 1 === nextLsn) {
      this.handle = await open(last.path, 'r+');
      return;
    }
    if (last && last.size === 0) {
      // An empty segment named for an LSN that is not next (possible only after a lost ack marker).
      await unlink(last.path);
      this.segments.pop();
    }
    await this.createSegment(nextLsn);
  }

  /** The segments, oldest first (read-only view). */
  get all(): readonly Segment[] {
    return this.segments;
  }

  /** Bytes of all segment files. */
  get diskBytes(): number {
    let n = 0;
    for (const s of this.segments) n += s.size;
    return n;
  }

  /**
   * Writes frames in order after the last one, rolling to a new segment where the next frame
   * would not fit, then fsyncs once (mode `batch`/`always`). On return the frames are durable.
   * Any error leaves the log in an unknown state: the caller must stop writing.
   */
  async write(frames: readonly FrameToWrite[]): Promise<void> {
    let i = 0;
    while (i < frames.length) {
      const seg = this.segments.at(-1)!;
      const first = frames[i]!;
      if (seg.size > 0 && seg.size + first.buf.length > this.segmentBytes) {
        await this.rotate(first.baseLsn);
        continue;
      }
      let j = i;
      let bytes = 0;
      while (j < frames.length && (j === i || seg.size + bytes + frames[j]!.buf.length <= this.segmentBytes)) bytes += frames[j++]!.buf.length;
      const bufs = frames.slice(i, j).map((f) => f.buf);
      const { bytesWritten } = await this.handle!.writev(bufs, seg.size);
      if (bytesWritten !== bytes) throw new SpoolError('SPOOL.IO', `short write to ${seg.path}: ${bytesWritten} of ${bytes} bytes`);
      seg.size += bytes;
      for (let k = i; k < j; k++) {
        seg.lastLsn = frames[k]!.lastLsn;
        if (frames[k]!.maxStateLsn > 0) seg.maxStateLsn = frames[k]!.maxStateLsn;
      }
      if (this.fsync === 'never') seg.durableSize = seg.size;
      i = j;
    }
    if (this.fsync !== 'never') await this.syncActive();
  }

  /**
   * Reads intact frames from `pos`, about `maxBytes` worth (at least one whole frame when there
   * is one), up to the durable end. Returns `gone` when the segment of `pos` was removed.
   */
  async read(pos: ReadPosition, maxBytes: number): Promise<{ frames: DecodedFrame[]; next: ReadPosition } | 'gone'> {
    let position = pos;
    for (;;) {
      const idx = this.indexOf(position.baseLsn);
      if (idx < 0) return 'gone';
      const seg = this.segments[idx]!;
      const limit = seg.durableSize;
      if (position.offset < limit) {
        const handle = await this.readHandle(seg);
        let length = Math.min(limit - position.offset, maxBytes);
        let buf = Buffer.allocUnsafe(length);
        await readFully(handle, buf, position.offset, seg.path);
        const frames: DecodedFrame[] = [];
        let o = 0;
        for (;;) {
          const r = decodeFrame(buf, o);
          if (r.status === 'ok') {
            frames.push(r.frame);
            o += r.frame.bytes;
            continue;
          }
          if (r.status === 'incomplete' && frames.length === 0 && position.offset + r.needed <= limit && r.needed > length) {
            // One frame larger than the read size: read exactly that frame.
            length = r.needed;
            buf = Buffer.allocUnsafe(length);
            await readFully(handle, buf, position.offset, seg.path);
            continue;
          }
          if (r.status === 'corrupt' || frames.length === 0) {
            const why = r.status === 'corrupt' ? r.reason : 'frame extends past the durable end';
            throw new SpoolError('SPOOL.CORRUPT', `${seg.path} changed under the spool at byte ${position.offset + o}: ${why}`);
          }
          break;
        }
        return { frames, next: { baseLsn: seg.baseLsn, offset: position.offset + o } };
      }
      const following = this.segments[idx + 1];
      // The segment is finished only once a newer one exists; until then more may be appended.
      if (!following || seg.durableSize < seg.size) return { frames: [], next: position };
      position = { baseLsn: following.baseLsn, offset: 0 };
    }
  }

  /** Reads every frame of a (finished) segment; used to account for a segment before dropping it. */
  async readSegment(seg: Segment): Promise<DecodedFrame[]> {
    const buf = await readFile(seg.path);
    const frames: DecodedFrame[] = [];
    for (let o = 0; o < seg.size; ) {
      const r = decodeFrame(buf.subarray(0, seg.size), o);
      if (r.status !== 'ok') throw new SpoolError('SPOOL.CORRUPT', `${seg.path} is damaged at byte ${o}`);
      frames.push(r.frame);
      o += r.frame.bytes;
    }
    return frames;
  }

  /** Deletes the oldest segment; never the one being written. */
  async removeOldest(): Promise<Segment> {
    const seg = this.segments[0];
    if (!seg || this.segments.length < 2) throw new Error('SPOOL.BUG: the segment being written cannot be removed');
    this.segments.shift();
    if (this.reader?.baseLsn === seg.baseLsn) {
      const r = this.reader;
      this.reader = undefined;
      await r.handle.close();
    }
    await unlink(seg.path);
    return seg;
  }

  /**
   * Starts a new segment now even if the current one has room, so the current one can be
   * removed once done (the spool is full and everything in it is acknowledged).
   */
  async roll(nextLsn: number): Promise<void> {
    const seg = this.segments.at(-1);
    if (seg && seg.size > 0) await this.rotate(nextLsn);
  }

  /** Fsyncs and closes the files. */
  async close(): Promise<void> {
    if (this.handle) {
      if (this.fsync !== 'never') await this.syncActive();
      await this.handle.close();
      this.handle = undefined;
    }
    if (this.reader) {
      await this.reader.handle.close();
      this.reader = undefined;
    }
  }

  private indexOf(baseLsn: number): number {
    // Few segments (maxBytes / segmentBytes); a linear search from the head is enough.
    for (let i = 0; i < this.segments.length; i++) if (this.segments[i]!.baseLsn === baseLsn) return i;
    return -1;
  }

  private async readHandle(seg: Segment): Promise<FileHandle> {
    if (this.reader?.baseLsn !== seg.baseLsn) {
      const old = this.reader;
      this.reader = undefined;
      await old?.handle.close();
      this.reader = { baseLsn: seg.baseLsn, handle: await open(seg.path, 'r') };
    }
    return this.reader.handle;
  }

  private async syncActive(): Promise<void> {
    const seg = this.segments.at(-1)!;
    if (seg.durableSize === seg.size) return;
    const size = seg.size;
    const started = process.hrtime.bigint();
    await this.handle!.datasync();
    this.onFsync(Number(process.hrtime.bigint() - started) / 1e9);
    seg.durableSize = size;
  }

  private async rotate(nextLsn: number): Promise<void> {
    // The old segment is synced before the new one exists, so a later segment never holds
    // data while an earlier one is torn: only the last segment can have a torn tail.
    if (this.fsync !== 'never') await this.syncActive();
    await this.handle?.close();
    this.handle = undefined;
    await this.createSegment(nextLsn);
  }

  private async createSegment(baseLsn: number): Promise<void> {
    const path = join(this.dir, segmentFileName(baseLsn));
    this.handle = await open(path, 'wx');
    if (this.fsync !== 'never') await syncDirectory(this.dir);
    this.segments.push({ baseLsn, path, size: 0, durableSize: 0, lastLsn: baseLsn - 1, maxStateLsn: 0 });
  }
}

async function readFully(handle: FileHandle, buf: Buffer, position: number, path: string): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesRead } = await handle.read(buf, done, buf.length - done, position + done);
    if (bytesRead === 0) throw new SpoolError('SPOOL.CORRUPT', `${path} is shorter than the spool wrote it`);
    done += bytesRead;
  }
}
