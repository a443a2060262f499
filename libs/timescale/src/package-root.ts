import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * The folder of this package (the one with its package.json). Found by walking up from
 * this file, so it is the same from `src/` (tsx, vitest) and from the built `dist/`.
 */
export function packageRoot(from: string = __dirname): string {
  let dir = resolve(from);
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === '@weir/timescale') return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`the @weir/timescale package root was not found above ${from}`);
    dir = parent;
  }
}

/** The migrations shipped with this package: `<package>/migrations`. */
export function defaultMigrationsDir(): string {
  return join(packageRoot(), 'migrations');
}
