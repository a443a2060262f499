import { emptyEngineState } from '@weir/detection';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CheckpointStore, serialiseCheckpoint } from './checkpoint.store';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'cp-'));
  dirs.push(d);
  return d;
};

describe('CheckpointStore', () => {
  it('has nothing before the first save, then returns what was saved and leaves no temporary file', async () => {
    const dir = tempDir();
    const store = new CheckpointStore(join(dir, 'state'));
    expect(await store.load()).toBeUndefined();
    const cp = { version: 1 as const, offsets: { 'it.security-events.v1:0': '41' }, engine: emptyEngineState(), outbox: [] };
    await store.save(cp);
    expect(await store.load()).toEqual(cp);
    expect(readdirSync(join(dir, 'state'))).toEqual(['correlator.checkpoint.json']);
  });

  it('writes a checkpoint given as text (serialiseCheckpoint) exactly as the same checkpoint given as an object', async () => {
    const engine = { ...emptyEngineState(), maxTime: 5, windows: { c: { '["10.0.0.1"]': [{ t: 5, r: 0, ev: [{ id: 'e1', time: 5, origin: 'it' }] }] } } };
    const cp = { version: 1 as const, offsets: { 'ot.events.v1:2': '7' }, engine, outbox: [] };
    const text = serialiseCheckpoint(cp.offsets, JSON.stringify(engine), cp.outbox);
    expect(text).toBe(JSON.stringify(cp));
    const store = new CheckpointStore(tempDir());
    await store.save(text);
    expect(await store.load()).toEqual(cp);
  });

  it('refuses a damaged checkpoint with CORRELATOR.CHECKPOINT_INVALID', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'correlator.checkpoint.json'), '{"version":1,"offs');
    await expect(new CheckpointStore(dir).load()).rejects.toThrow(/CORRELATOR\.CHECKPOINT_INVALID/);
  });
});
