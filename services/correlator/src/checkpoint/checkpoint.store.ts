import type { AlertV1 } from '@weir/contracts';
import type { EngineState } from '@weir/detection';
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';

/** What a checkpoint holds: the engine state, the input offsets it reflects, and alerts not yet acknowledged by Kafka. */
export interface Checkpoint {
  version: 1;
  /** `<full topic>:<partition>` -> offset of the last message folded into `engine`. */
  offsets: Record<string, string>;
  engine: EngineState;
  /** Alerts raised by the state but not yet acknowledged on sec.alerts.v1 (sent again after a restart). */
  outbox: AlertV1[];
}

/**
 * The text `save` writes for a checkpoint whose engine state is already serialised
 * (`DetectionEngine.serialise`): the same as `JSON.stringify` of the checkpoint, without
 * copying a large state first.
 */
export function serialiseCheckpoint(offsets: Record<string, string>, engineJson: string, outbox: readonly AlertV1[]): string {
  return `{"version":1,"offsets":${JSON.stringify(offsets)},"engine":${engineJson},"outbox":${JSON.stringify(outbox)}}`;
}

/** A checkpoint file that exists but cannot be used. */
export class CheckpointError extends Error {
  readonly code = 'CORRELATOR.CHECKPOINT_INVALID';
  constructor(message: string) {
    super(`CORRELATOR.CHECKPOINT_INVALID: ${message}`);
    this.name = 'CheckpointError';
  }
}

/**
 * Keeps the checkpoint in one file, replaced atomically: written to a
 * temporary file, fsynced, renamed over the old one, and the folder fsynced,
 * so a crash leaves either the old or the new checkpoint, never a mix.
 */
export class CheckpointStore {
  private readonly file: string;

  constructor(private readonly dir: string) {
    this.file = join(dir, 'correlator.checkpoint.json');
  }

  /** The last checkpoint, or undefined when there is none yet. */
  async load(): Promise<Checkpoint | undefined> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    let cp: Checkpoint;
    try {
      cp = JSON.parse(text) as Checkpoint;
    } catch (err) {
      throw new CheckpointError(`${this.file} is not JSON: ${(err as Error).message}`);
    }
    if (cp?.version !== 1 || typeof cp.offsets !== 'object' || !Array.isArray(cp.outbox) || typeof cp.engine !== 'object') throw new CheckpointError(`${this.file} is not a version 1 checkpoint`);
    return cp;
  }

  /** Writes a checkpoint (or its text from `serialiseCheckpoint`) durably; resolves after the rename is on disk. */
  async save(cp: Checkpoint | string): Promise<void> {
    // Serialised before the first await: the checkpoint is the state at the time of the call.
    const text = typeof cp === 'string' ? cp : JSON.stringify(cp);
    await mkdir(this.dir, { recursive: true });
    const tmp = `${this.file}.tmp`;
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(text);
      await fh.datasync();
    } finally {
      await fh.close();
    }
    await rename(tmp, this.file);
    const dh = await open(this.dir, 'r');
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
  }
}
