import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JsonValue } from '@weir/contracts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AckMarker, encodeSnapshot, lockDirectory, readSnapshot, writeSnapshot } from './durable-files';
import { isSpoolError } from './spool-error';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'weir-spoolfiles-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('AckMarker', () => {
  it('starts at 0 and reads back the last position written', async () => {
    const path = join(dir, 'ack');
    const a = AckMarker.open(path);
    expect(a.acked).toBe(0);
    a.write(10);
    a.write(2 ** 40 + 3);
    a.write(5); // never backwards
    await a.close();
    expect(AckMarker.open(path).acked).toBe(2 ** 40 + 3);
  });

  it('falls back to the previous slot when the newer one is torn', async () => {
    const path = join(dir, 'ack');
    const a = AckMarker.open(path);
    a.write(100); // generation 1 -> slot 1
    a.write(200); // generation 2 -> slot 0
    await a.close();
    const bytes = await readFile(path);
    bytes[16] = bytes[16]! ^ 0xff; // damage slot 0's LSN
    await writeFile(path, bytes);
    expect(AckMarker.open(path).acked).toBe(100);
  });
});

describe('state snapshot', () => {
  it('round-trips, and an empty directory has an empty state at LSN 0', async () => {
    expect(await readSnapshot(dir)).toEqual({ lsn: 0, state: new Map() });
    await writeSnapshot(dir, encodeSnapshot(77, new Map<string, JsonValue>([['next:plc-1', 1234], ['last', { t: '2026-11-25T08:00:00Z' }]])));
    const s = await readSnapshot(dir);
    expect(s.lsn).toBe(77);
    expect(Object.fromEntries(s.state)).toEqual({ 'next:plc-1': 1234, last: { t: '2026-11-25T08:00:00Z' } });
  });

  it('refuses a damaged snapshot with SPOOL.CORRUPT rather than starting from a wrong state', async () => {
    await writeSnapshot(dir, encodeSnapshot(1, new Map([['k', 1]])));
    const path = join(dir, 'state.snapshot');
    const bytes = await readFile(path);
    bytes[bytes.length - 3] = 0x30;
    await writeFile(path, bytes);
    await expect(readSnapshot(dir)).rejects.toSatisfy((e: unknown) => isSpoolError(e, 'SPOOL.CORRUPT'));
  });
});

describe('lockDirectory', () => {
  it('refuses a second open in the same process and allows it after release', async () => {
    const release = await lockDirectory(dir);
    await expect(lockDirectory(dir)).rejects.toSatisfy((e: unknown) => isSpoolError(e, 'SPOOL.LOCKED'));
    await release();
    const again = await lockDirectory(dir);
    await again();
  });

  it('takes over a lock left by a process that is gone, and refuses one held by a live process', async () => {
    // 2^22 + 1 is above the largest pid Linux can hand out (pid_max is at most 2^22).
    await writeFile(join(dir, 'LOCK'), `${2 ** 22 + 1}\n`);
    const release = await lockDirectory(dir);
    expect((await readFile(join(dir, 'LOCK'), 'utf8')).trim()).toBe(String(process.pid));
    await release();
    // The parent process is alive and is not us.
    await writeFile(join(dir, 'LOCK'), `${process.ppid}\n`);
    await expect(lockDirectory(dir)).rejects.toSatisfy((e: unknown) => isSpoolError(e, 'SPOOL.LOCKED'));
  });
});
