import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];

/** A fresh folder under the system temp folder (`weir-<label>-…`), deleted by `removeTempDirs()`. */
export function tempDir(label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `weir-${label}-`));
  made.push(dir);
  return dir;
}

/** Deletes the folders `tempDir` made so far (call once what used them stopped). */
export function removeTempDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}
