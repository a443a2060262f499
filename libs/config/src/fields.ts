import { z } from 'zod';

const DURATION_UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses `250ms`, `30s`, `5m`, `1h`, `7d` or a bare number of milliseconds; undefined if not a duration. */
export function parseDuration(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  if (!m) return undefined;
  return Math.round(Number(m[1]) * DURATION_UNITS_MS[m[2] ?? 'ms']!);
}

/** Settings schemas that accept both file values and the strings environment variables carry. */
export const fields = {
  /** An integer; env strings are converted. */
  int: (opts: { min?: number; max?: number } = {}) =>
    z.coerce.number().int().min(opts.min ?? Number.MIN_SAFE_INTEGER).max(opts.max ?? Number.MAX_SAFE_INTEGER),
  /** A TCP port, 0 meaning "pick a free one". */
  port: () => z.coerce.number().int().min(0).max(65535),
  /** `true`/`false`, also `1`/`0`, `yes`/`no` from env. */
  bool: () =>
    z.union([
      z.boolean(),
      z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => v === 'true' || v === '1' || v === 'yes'),
    ]),
  /** A list; env strings are split on commas. */
  list: <T extends z.ZodType>(item: T) =>
    z.preprocess((v) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter((s) => s.length > 0) : v), z.array(item)),
  /** A duration in milliseconds; accepts `30s`, `5m`, `1h`, `7d` or a number of ms. */
  durationMs: () =>
    z.union([z.number().nonnegative(), z.string()]).transform((v, ctx) => {
      if (typeof v === 'number') return v;
      const ms = parseDuration(v);
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: `"${v}" is not a duration (use e.g. 500ms, 30s, 5m, 1h, 7d)` });
        return z.NEVER;
      }
      return ms;
    }),
  /** Structured settings (lists of rules, maps); the environment gives them as JSON text. */
  json: <T extends z.ZodType>(schema: T) =>
    z.preprocess((v) => {
      if (typeof v !== 'string') return v;
      try {
        return JSON.parse(v) as unknown;
      } catch {
        return v;
      }
    }, schema),
  /** A regular expression (JavaScript syntax), checked to compile. */
  regex: () =>
    z.string().refine((v) => {
      try {
        new RegExp(v);
        return true;
      } catch {
        return false;
      }
    }, 'must be a valid regular expression'),
  /** A URL with one of the given schemes. */
  url: (schemes: readonly string[]) =>
    z.string().refine((v) => {
      try {
        return schemes.includes(new URL(v).protocol.replace(/:$/, ''));
      } catch {
        return false;
      }
    }, `must be a URL with scheme ${schemes.join(' or ')}`),
};
