import { appendFile, mkdtemp, readdir, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildFrame, frameEntryCount, sealFrame, type DecodedFrame } from './frame';
import { SegmentLog, segmentFileName, type FrameToWrite, type FsyncMode } from './segment-log';
import { isSpoolError } from './spool-error';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'weir-seglog-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A frame of `n` messages of ~100-byte values, sealed at `baseLsn`. */
function frame(baseLsn: number, n = 1, tag = 'x'): FrameToWrite {
  const messages = Array.from({ length: n }, (_, i) => ({ topic: 't.ot.telemetry.raw.v1', key: `k${(baseLsn + i) % 7}`, value: Buffer.from(JSON.stringify({ seq: baseLsn + i, pad: tag.repeat(80) })) }));
  const buf = buildFrame([], messages, 1_700_000_000_000 + baseLsn);
  sealFrame(buf, baseLsn);
  return { buf, baseLsn, lastLsn: baseLsn + frameEntryCount(buf) - 1, maxStateLsn: 0 };
}

async function open(options: { segmentBytes?: number; fsync?: FsyncMode; gap?: number } = {}): Promise<{ log: SegmentLog; frames: DecodedFrame[]; discarded: number }> {
  const frames: DecodedFrame[] = [];
  const { log, report } = await SegmentLog.recover(dir, { segmentBytes: options.segmentBytes ?? 1 << 20, fsync: options.fsync ?? 'batch', gapToleratedThrough: options.gap ?? 0 }, (f) => frames.push(f));
  return { log, frames, discarded: report.discardedBytes };
}

async function segmentFiles(): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.endsWith('.seg')).sort();
}

describe('SegmentLog', () => {
  it('writes frames, and a reopened log replays them in order', async () => {
    const { log } = await open();
    await log.startWriting(1);
    await log.write([frame(1, 3), frame(4, 2)]);
    await log.write([frame(6)]);
    await log.close();

    const again = await open();
    expect(again.frames.map((f) => [f.baseLsn, f.entries.length])).toEqual([
      [1, 3],
      [4, 2],
      [6, 1],
    ]);
    expect(again.discarded).toBe(0);
    await again.log.startWriting(7);
    await again.log.write([frame(7)]);
    await again.log.close();
    expect((await open()).frames.map((f) => f.baseLsn)).toEqual([1, 4, 6, 7]);
  });

  it('cuts a torn last frame at any byte and keeps every whole frame before it', async () => {
    const { log } = await open();
    await log.startWriting(1);
    const frames = [frame(1, 2), frame(3, 2), frame(5, 2)];
    await log.write(frames);
    await log.close();
    const path = join(dir, segmentFileName(1));
    const intact = frames[0]!.buf.length + frames[1]!.buf.length;
    const full = intact + frames[2]!.buf.length;
    for (const cut of [intact + 1, intact + 7, intact + 8, intact + 40, full - 1]) {
      await truncate(path, cut);
      const r = await open();
      expect(r.frames.map((f) => f.baseLsn), `cut at ${cut}`).toEqual([1, 3]);
      expect(r.discarded).toBe(cut - intact);
      expect((await stat(path)).size).toBe(intact);
      // Appending resumes right after the last whole frame.
      await r.log.startWriting(5);
      await r.log.write([frames[2]!]);
      await r.log.close();
      expect((await open()).frames.map((f) => f.baseLsn)).toEqual([1, 3, 5]);
    }
  });

  it('cuts garbage after the last frame (a write whose data never reached the disk)', async () => {
    const { log } = await open();
    await log.startWriting(1);
    await log.write([frame(1), frame(2)]);
    await log.close();
    await appendFile(join(dir, segmentFileName(1)), Buffer.alloc(4096));
    const r = await open();
    expect(r.frames.map((f) => f.baseLsn)).toEqual([1, 2]);
    expect(r.discarded).toBe(4096);
  });

  it('rolls to a new segment named by its first LSN when the next frame would not fit', async () => {
    const segmentBytes = 4096;
    const all = Array.from({ length: 90 }, (_, i) => frame(1 + i));
    // Where the frames must land: a new segment whenever the next frame would overflow this one.
    const expectedBases: number[] = [];
    let used = segmentBytes;
    for (const f of all) {
      if (used + f.buf.length > segmentBytes) {
        expectedBases.push(f.baseLsn);
        used = 0;
      }
      used += f.buf.length;
    }
    expect(expectedBases.length).toBeGreaterThan(3);
    const { log } = await open({ segmentBytes });
    await log.startWriting(1);
    // 90 single-message frames in three group commits.
    for (let b = 0; b < 3; b++) await log.write(all.slice(b * 30, b * 30 + 30));
    const names = await segmentFiles();
    expect(names).toEqual(expectedBases.map(segmentFileName));
    for (const n of names) expect((await stat(join(dir, n))).size).toBeLessThanOrEqual(segmentBytes);
    expect(log.diskBytes).toBe(all.reduce((s, f) => s + f.buf.length, 0));

    // The reader crosses segment boundaries and sees every frame once, in order.
    const seen: number[] = [];
    let pos = { baseLsn: 1, offset: 0 };
    for (;;) {
      const r = await log.read(pos, 1500);
      if (r === 'gone') throw new Error('unexpected');
      if (r.frames.length === 0) break;
      seen.push(...r.frames.map((f) => f.baseLsn));
      pos = r.next;
    }
    expect(seen).toEqual(Array.from({ length: 90 }, (_, i) => i + 1));

    // Trimming removes whole segments from the head, never the one being written.
    await log.removeOldest();
    expect(await segmentFiles()).toEqual(names.slice(1));
    expect(await log.read({ baseLsn: 1, offset: 0 }, 1500)).toBe('gone');
    while (log.all.length > 1) await log.removeOldest();
    await expect(log.removeOldest()).rejects.toThrow(/cannot be removed/);
    await log.close();
    // A log whose head was trimmed reopens from its first remaining segment.
    const again = await open({ segmentBytes });
    expect(again.frames[0]!.baseLsn).toBe(expectedBases.at(-1));
    expect(again.frames.at(-1)!.baseLsn).toBe(90);
  });

  it('reads a frame larger than the read size whole', async () => {
    const { log } = await open();
    await log.startWriting(1);
    const big = frame(1, 50);
    await log.write([big]);
    const r = await log.read({ baseLsn: 1, offset: 0 }, 100);
    expect(r !== 'gone' && r.frames.map((f) => f.entries.length)).toEqual([50]);
    await log.close();
  });

  it('refuses damage in a segment that later segments follow (SPOOL.CORRUPT)', async () => {
    const { log } = await open({ segmentBytes: 4096 });
    await log.startWriting(1);
    await log.write(Array.from({ length: 60 }, (_, i) => frame(1 + i)));
    await log.close();
    const first = join(dir, (await segmentFiles())[0]!);
    await writeFile(first, Buffer.alloc(100, 0xee), { flag: 'r+' });
    await expect(open({ segmentBytes: 4096 })).rejects.toSatisfy((e: unknown) => isSpoolError(e, 'SPOOL.CORRUPT'));
  });

  it('refuses a gap between segments unless the missing entries are known to be done', async () => {
    const { log } = await open({ segmentBytes: 4096 });
    await log.startWriting(1);
    await log.write(Array.from({ length: 60 }, (_, i) => frame(1 + i)));
    await log.close();
    const names = await segmentFiles();
    await rm(join(dir, names[1]!));
    const secondBase = Number(names[1]!.slice(0, 16));
    const thirdBase = Number(names[2]!.slice(0, 16));
    await expect(open({ segmentBytes: 4096 })).rejects.toSatisfy((e: unknown) => isSpoolError(e, 'SPOOL.CORRUPT'));
    const r = await open({ segmentBytes: 4096, gap: thirdBase - 1 });
    expect(r.frames.some((f) => f.baseLsn === secondBase)).toBe(false);
    expect(r.frames.at(-1)!.baseLsn).toBe(60);
  });

  it('starts a new segment when writing resumes after a position the log does not reach', async () => {
    const { log } = await open();
    await log.startWriting(1);
    await log.write([frame(1)]);
    await log.close();
    const r = await open();
    await r.log.startWriting(10);
    await r.log.write([frame(10)]);
    await r.log.close();
    expect(await segmentFiles()).toEqual([segmentFileName(1), segmentFileName(10)]);
    expect((await open({ gap: 9 })).frames.map((f) => f.baseLsn)).toEqual([1, 10]);
  });
});
