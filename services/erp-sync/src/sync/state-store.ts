import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { StoredAsset } from '../assets/asset-catalog';
import { ErpSyncError, messageOf } from '../errors';
import type { EntityKind } from './change-set';

/** Checkpoint and bookkeeping of one feed. */
export interface FeedState {
  /** Last change time read and published (ISO); the next delta starts after it. */
  since?: string;
  /** When the last full read (initial load or reconciliation) was published. */
  lastFullAt?: string;
  /** Ids this feed has published and not deleted, with a hash of the last message, per kind. */
  published: { [K in EntityKind]?: Record<string, string> };
}

/** Everything erp-sync keeps between runs. */
export interface SyncStateDoc {
  version: 1;
  feeds: Record<string, FeedState>;
  /** The asset tree (what each feed said about each asset), so paths can be rebuilt when an ancestor moves. */
  assets: Record<string, StoredAsset>;
}

/** An empty state: the first run does a full load of every feed. */
export function emptyState(): SyncStateDoc {
  return { version: 1, feeds: {}, assets: {} };
}

/**
 * The state file, `<stateDir>/erp-sync.state.json`, written atomically (a
 * temporary file, fsync, rename, fsync of the folder) so a crash leaves either
 * the old or the new state, never half of one. Writes are serialised.
 */
export class StateStore {
  private writing: Promise<void> = Promise.resolve();
  readonly file: string;

  constructor(private readonly dir: string) {
    this.file = join(dir, 'erp-sync.state.json');
  }

  /** Reads the state; an empty one when there is no file yet. A file that cannot be read or parsed is an error, not a silent fresh start. */
  async load(): Promise<SyncStateDoc> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return emptyState();
      throw new ErpSyncError('ERP.STATE_FAILED', `cannot read ${this.file}: ${messageOf(err)}`, {}, { cause: err });
    }
    try {
      const doc = JSON.parse(text) as Partial<SyncStateDoc>;
      if (doc.version !== 1 || typeof doc.feeds !== 'object' || doc.feeds === null) throw new Error(`unknown layout (version ${String(doc.version)})`);
      return { version: 1, feeds: doc.feeds, assets: doc.assets ?? {} };
    } catch (err) {
      throw new ErpSyncError('ERP.STATE_FAILED', `${this.file} is not a valid state file (${messageOf(err)}); move it away to start with a full load of every feed`, {}, { cause: err });
    }
  }

  /** Writes the state; resolves once it is on disk. */
  save(doc: SyncStateDoc): Promise<void> {
    const text = JSON.stringify(doc);
    const run = this.writing.then(() => this.write(text));
    this.writing = run.catch(() => undefined);
    return run;
  }

  private async write(text: string): Promise<void> {
    const tmp = `${this.file}.${process.pid}.tmp`;
    try {
      await mkdir(this.dir, { recursive: true });
      const handle = await open(tmp, 'w');
      try {
        await handle.writeFile(text, 'utf8');
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(tmp, this.file);
      // The rename is durable only once the folder entry is.
      const dir = await open(this.dir, 'r');
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
    } catch (err) {
      await rm(tmp, { force: true }).catch(() => undefined);
      throw new ErpSyncError('ERP.STATE_FAILED', `cannot write ${this.file}: ${messageOf(err)}`, {}, { cause: err });
    }
  }
}
