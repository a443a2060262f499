import { isa95Level } from '@weir/contracts';
import type { z } from 'zod';

/** An ISA-95 level, enterprise down to equipment. */
export type Isa95Level = z.infer<typeof isa95Level>;

/** Levels from the top of the hierarchy down. */
export const ISA95_LEVELS: readonly Isa95Level[] = isa95Level.options;

/** Splits an asset path (`acme/hamburg/packaging/line1/filler1`) into its segments; empty segments are an error. */
export function parseAssetPath(path: string): string[] {
  const parts = path.split('/');
  if (parts.some((p) => p.trim() === '')) throw new Error(`DOMAIN.BAD_ASSET_PATH: "${path}" has an empty segment`);
  return parts;
}

/** True when `path` is `ancestor` or lies below it (segment-wise, so `line1` is not under `line`). */
export function isUnder(path: string, ancestor: string): boolean {
  return path === ancestor || path.startsWith(`${ancestor}/`);
}

/** True when a child at `child` level may sit under a parent at `parent` level (strictly lower in the hierarchy). */
export function isValidChildLevel(parent: Isa95Level, child: Isa95Level): boolean {
  return ISA95_LEVELS.indexOf(child) > ISA95_LEVELS.indexOf(parent);
}
