import { mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '@weir/observability';
import type { ChangeSet, EntityKind, ErpFeed } from '../sync/change-set';
import type { SyncMetrics } from '../sync/sync-metrics';
import { classifyFile, fileChangeSet, FileInvalidError, parseDroppedFile } from './file-records';

/** Settings of the drop folder. */
export interface FileDropOptions {
  /** The folder files are dropped into; `done/` and `failed/` are made inside it. */
  dir: string;
  /** A file modified less than this long ago may still be being written: it waits for the next poll. */
  settleMs: number;
  /** Zone of times written without an offset. */
  timeZone: string;
  logger: Logger;
  metrics: SyncMetrics;
  now?: () => number;
}

// Names writers use while a file is not complete yet; hidden files are editors' and OS's.
const IGNORED = /^\.|\.(tmp|part|partial|crdownload|swp)$|~$/i;

/**
 * A folder polled for CSV/JSON drops, for plants without SAP. Each file is read
 * whole; a valid one is published and then moved to `done/`, an invalid one is
 * moved to `failed/` unpublished, next to `<name>.errors.txt` listing every
 * problem with its line. So each file is processed once: a crash between
 * publish and move publishes it again, which the compacted topics absorb.
 * Files are taken in name order (timestamped exports then apply in order).
 */
export class FileDropFeed implements ErpFeed {
  readonly name = 'files';
  readonly kinds: readonly EntityKind[] = ['assets', 'workOrders', 'productionOrders'];

  constructor(private readonly o: FileDropOptions) {}

  async fetchChanges(): Promise<ChangeSet> {
    const { dir, logger, metrics } = this.o;
    await mkdir(join(dir, 'done'), { recursive: true });
    await mkdir(join(dir, 'failed'), { recursive: true });
    const now = this.o.now?.() ?? Date.now();
    const entries = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isFile() && !IGNORED.test(e.name)).map((e) => e.name).sort();
    for (const name of entries) {
      const path = join(dir, name);
      const info = await stat(path);
      if (now - info.mtimeMs < this.o.settleMs) continue;
      if (!classifyFile(name)) {
        await this.reject(name, [`${name}: the name must start with assets, work-orders or production-orders and end in .csv or .json`]);
        continue;
      }
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (err) {
        // Gone meanwhile (another instance, an operator): nothing to do.
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw err;
      }
      try {
        const parsed = parseDroppedFile(name, text, { timeZone: this.o.timeZone, defaultChangedAt: new Date(info.mtimeMs).toISOString() });
        logger.info({ file: name, kind: parsed.kind, records: parsed.upserts.length, deletions: parsed.deletions.length }, 'dropped file read');
        return {
          ...fileChangeSet(parsed),
          more: true,
          onPublished: async () => {
            await this.moveTo('done', name);
            metrics.files.inc({ outcome: 'done' });
          },
        };
      } catch (err) {
        if (!(err instanceof FileInvalidError)) throw err;
        await this.reject(name, err.problems);
      }
    }
    return { upserts: {}, deletions: {} };
  }

  private async reject(name: string, problems: readonly string[]): Promise<void> {
    const target = await this.moveTo('failed', name);
    await writeFile(`${target}.errors.txt`, `${problems.join('\n')}\n`);
    this.o.metrics.files.inc({ outcome: 'failed' });
    this.o.metrics.errors.inc({ feed: this.name, code: 'ERP.FILE_INVALID' });
    this.o.logger.error({ file: name, code: 'ERP.FILE_INVALID', problems: problems.slice(0, 10), count: problems.length, movedTo: target }, 'ERP.FILE_INVALID: dropped file rejected, nothing of it published');
  }

  /** Moves a file into done/ or failed/, keeping an older file of the same name. */
  private async moveTo(folder: 'done' | 'failed', name: string): Promise<string> {
    let target = join(this.o.dir, folder, name);
    try {
      await stat(target);
      target = join(this.o.dir, folder, `${new Date(this.o.now?.() ?? Date.now()).toISOString().replace(/[:.]/g, '-')}-${name}`);
    } catch {
      // free name
    }
    await rename(join(this.o.dir, name), target);
    return target;
  }
}
