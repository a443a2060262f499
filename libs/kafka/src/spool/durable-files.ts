import { closeSync, fdatasync, openSync, readSync, writeSync } from 'node:fs';
import { open, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { JsonValue } from '@weir/contracts';
import { SpoolError } from './spool-error';

const TWO_32 = 2 ** 32;

/** Fsyncs a directory so that a file created, renamed or removed in it survives a power loss. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Writes `data` to `path` atomically: a temporary file, fsynced, renamed over the target, directory fsynced. */
export async function writeFileAtomic(path: string, data: Buffer, dir: string): Promise<void> {
  const tmp = `${path}.tmp`;
  const handle = await open(tmp, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, path);
  await syncDirectory(dir);
}

// The ack marker: "every entry up to LSN n is done" (sent and acknowledged by Kafka, or dropped).
// It is rewritten after every acknowledged batch, in place, so it costs one small write and no
// rename. Two 32-byte slots are written alternately, each with a generation and a CRC: a torn
// write can only damage the slot being written, and the other still holds the previous value.
//   slot = u32 magic 'WACK' | u32 crc32(next 16 bytes) | u32 gen hi | u32 gen lo | u32 lsn hi | u32 lsn lo | 8 bytes zero
const ACK_MAGIC = 0x4b434157; // 'WACK' little-endian
const SLOT_BYTES = 32;

/** The durable "acknowledged up to" position of a spool. */
export class AckMarker {
  private generation: number;
  private dirty = false;
  private syncing: Promise<void> | undefined;
  private closed = false;

  private constructor(
    private readonly fd: number,
    generation: number,
    private lsn: number,
  ) {
    this.generation = generation;
  }

  /** Opens (creating if needed) the marker file and reads the newest valid slot; LSN 0 when none. */
  static open(path: string): AckMarker {
    const fd = openSync(path, 'a+');
    closeSync(fd);
    // 'a+' would force appends; reopen for positioned writes now that the file exists.
    const rw = openSync(path, 'r+');
    const buf = Buffer.alloc(SLOT_BYTES * 2);
    readSync(rw, buf, 0, buf.length, 0);
    let best: { gen: number; lsn: number } | undefined;
    for (let slot = 0; slot < 2; slot++) {
      const s = buf.subarray(slot * SLOT_BYTES, (slot + 1) * SLOT_BYTES);
      if (s.readUInt32LE(0) !== ACK_MAGIC || crc32(s.subarray(8, 24)) !== s.readUInt32LE(4)) continue;
      const gen = s.readUInt32LE(8) * TWO_32 + s.readUInt32LE(12);
      const lsn = s.readUInt32LE(16) * TWO_32 + s.readUInt32LE(20);
      if (!best || gen > best.gen) best = { gen, lsn };
    }
    return new AckMarker(rw, best?.gen ?? 0, best?.lsn ?? 0);
  }

  /** The acknowledged LSN read at open or last written. */
  get acked(): number {
    return this.lsn;
  }

  /**
   * Records `lsn` as acknowledged. The write is synchronous (a 32-byte write into the page
   * cache, a few microseconds) so that a process killed right after Kafka's acknowledgement
   * still leaves it behind; only a power loss before the next `sync()` can lose it.
   */
  write(lsn: number): void {
    if (this.closed || lsn <= this.lsn) return;
    this.lsn = lsn;
    this.generation++;
    const s = Buffer.alloc(SLOT_BYTES);
    s.writeUInt32LE(ACK_MAGIC, 0);
    s.writeUInt32LE(Math.floor(this.generation / TWO_32), 8);
    s.writeUInt32LE(this.generation % TWO_32, 12);
    s.writeUInt32LE(Math.floor(lsn / TWO_32), 16);
    s.writeUInt32LE(lsn % TWO_32, 20);
    s.writeUInt32LE(crc32(s.subarray(8, 24)), 4);
    writeSync(this.fd, s, 0, SLOT_BYTES, (this.generation % 2) * SLOT_BYTES);
    this.dirty = true;
  }

  /** Fsyncs the marker if it changed since the last sync; one sync at a time. */
  async sync(): Promise<void> {
    while (this.syncing) await this.syncing;
    if (this.closed || !this.dirty) return;
    this.dirty = false;
    this.syncing = new Promise<void>((resolve, reject) => {
      fdatasync(this.fd, (err) => (err ? reject(err) : resolve()));
    }).finally(() => {
      this.syncing = undefined;
    });
    await this.syncing;
  }

  /** Syncs and closes the file. */
  async close(): Promise<void> {
    await this.sync();
    this.closed = true;
    closeSync(this.fd);
  }
}

/** The state a spool recovered: values after applying every state entry up to `lsn`. */
export interface StateSnapshot {
  lsn: number;
  state: Map<string, JsonValue>;
}

// The state snapshot: u32 bodyLength | u32 crc32(body) | body = JSON {"v":1,"lsn":n,"state":{...}}.
// Written by atomic rename, so it is either the old or the new one; the CRC catches a damaged disk.
const SNAPSHOT_FILE = 'state.snapshot';

/** Reads the state snapshot of a spool directory; an empty state at LSN 0 when there is none. */
export async function readSnapshot(dir: string): Promise<StateSnapshot> {
  let buf: Buffer;
  try {
    buf = await readFile(join(dir, SNAPSHOT_FILE));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { lsn: 0, state: new Map() };
    throw err;
  }
  const len = buf.length >= 8 ? buf.readUInt32LE(0) : -1;
  if (len !== buf.length - 8 || crc32(buf.subarray(8)) !== buf.readUInt32LE(4)) {
    throw new SpoolError('SPOOL.CORRUPT', `${join(dir, SNAPSHOT_FILE)} is damaged (length or CRC); the state it holds cannot be trusted`);
  }
  const body = JSON.parse(buf.toString('utf8', 8)) as { v: number; lsn: number; state: Record<string, JsonValue> };
  if (body.v !== 1) throw new SpoolError('SPOOL.INCOMPATIBLE', `state snapshot version ${body.v} is not supported`);
  return { lsn: body.lsn, state: new Map(Object.entries(body.state)) };
}

/** Serialises a snapshot (synchronously, so it captures one consistent moment). */
export function encodeSnapshot(lsn: number, state: ReadonlyMap<string, JsonValue>): Buffer {
  const body = Buffer.from(JSON.stringify({ v: 1, lsn, state: Object.fromEntries(state) }));
  const head = Buffer.alloc(8);
  head.writeUInt32LE(body.length, 0);
  head.writeUInt32LE(crc32(body), 4);
  return Buffer.concat([head, body]);
}

/** Writes an encoded snapshot atomically. */
export async function writeSnapshot(dir: string, encoded: Buffer): Promise<void> {
  await writeFileAtomic(join(dir, SNAPSHOT_FILE), encoded, dir);
}

/** Format and identity of a spool directory (`spool.json`). */
export interface SpoolMeta {
  format: 1;
  createdAt: string;
}

/** Reads `spool.json`, or writes it for a new spool. */
export async function ensureMeta(dir: string): Promise<SpoolMeta> {
  const path = join(dir, 'spool.json');
  try {
    const meta = JSON.parse(await readFile(path, 'utf8')) as SpoolMeta;
    if (meta.format !== 1) throw new SpoolError('SPOOL.INCOMPATIBLE', `${path} has format ${String(meta.format)}; this version reads format 1`);
    return meta;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const meta: SpoolMeta = { format: 1, createdAt: new Date().toISOString() };
  await writeFileAtomic(path, Buffer.from(`${JSON.stringify(meta)}\n`), dir);
  return meta;
}

const openDirs = new Set<string>();

/**
 * Takes the directory's lock file. A lock left by a process that is gone (killed) is taken
 * over; one held by a live process, or by this process, is refused with `SPOOL.LOCKED`.
 * Returns the release function.
 */
export async function lockDirectory(dir: string): Promise<() => Promise<void>> {
  if (openDirs.has(dir)) throw new SpoolError('SPOOL.LOCKED', `${dir} is already open in this process`);
  openDirs.add(dir);
  try {
    return await takeLockFile(dir);
  } catch (err) {
    openDirs.delete(dir);
    throw err;
  }
}

async function takeLockFile(dir: string): Promise<() => Promise<void>> {
  const path = join(dir, 'LOCK');
  // Create-exclusive, so two processes starting at once cannot both take it.
  for (let attempt = 0; ; attempt++) {
    try {
      await writeFile(path, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 2) throw err;
    }
    const holder = Number((await readFile(path, 'utf8').catch(() => '')).trim());
    // Our own pid in a lock we do not hold: a restarted container reuses pids (often 1).
    if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && processAlive(holder)) {
      throw new SpoolError('SPOOL.LOCKED', `${dir} is in use by process ${holder}`);
    }
    await unlink(path).catch(() => undefined);
  }
  return async () => {
    openDirs.delete(dir);
    await unlink(path).catch(() => undefined);
  };
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
