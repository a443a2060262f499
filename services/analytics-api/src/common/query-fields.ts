import { z } from 'zod';

// Request fields shared by the controllers. Values arrive as strings from the query string; a repeated
// parameter arrives as an array and is refused by z.string() with a message naming it.

/** An ISO 8601 timestamp with a time zone designator (`2024-03-04T06:00:00Z`, `...+01:00`). */
export const instant = z
  .string()
  .max(40)
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$/, 'must be an ISO 8601 timestamp with a time zone, e.g. 2024-03-04T06:00:00Z')
  .transform((v) => new Date(v))
  .refine((d) => !Number.isNaN(d.getTime()), 'is not a valid date');

const TIME_ZONES = new Set<string>(['UTC', ...Intl.supportedValuesOf('timeZone')]);
/** An IANA time zone name such as `Europe/Berlin`. */
export const timeZone = z
  .string()
  .max(64)
  .refine((v) => TIME_ZONES.has(v), 'must be an IANA time zone name such as UTC or Europe/Berlin')
  .default('UTC');

/** Whether text holds a control character (U+0000-U+001F, U+007F), which no id, path or search text needs. */
export function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

/** Text without control characters. */
export const plainText = (max: number) => z.string().min(1).max(max).refine((v) => !hasControlCharacter(v), 'must not hold control characters');

/** An asset or site id: no spaces, wildcards or control characters. */
export const assetId = plainText(200).refine((v) => /^[^\s*%?\\]+$/.test(v), 'must be an asset id (no spaces, wildcards or backslashes)');

/** A comma-separated list of series ids. */
export const seriesIds = z
  .string()
  .max(20_000)
  .regex(/^\d{1,10}(,\d{1,10})*$/, 'must be a comma-separated list of series ids (integers)')
  .transform((v) => [...new Set(v.split(',').map(Number))])
  .refine((ids) => ids.every((id) => id >= 1 && id <= 2_147_483_647), 'series ids must be between 1 and 2147483647');

/** `from` and `to`, both required. */
export const timeRange = { from: instant, to: instant };

/** Adds the "from before to" and "range not too long" rules to a schema with from/to. */
export function checkRange(value: { from: Date; to: Date }, ctx: z.RefinementCtx, maxRangeMs: number): void {
  // Object refinements also run when a field already failed; then the field is not a Date and was reported.
  if (!(value.from instanceof Date) || !(value.to instanceof Date)) return;
  if (value.to.getTime() <= value.from.getTime()) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be after from' });
  else if (value.to.getTime() - value.from.getTime() > maxRangeMs)
    ctx.addIssue({ code: 'custom', path: ['to'], message: `the range from..to may span at most ${Math.round(maxRangeMs / 86_400_000)} days` });
}

/** A glob over slash-separated paths: `*` one segment (or part of one), `**` any depth. */
export const pathGlob = plainText(500);

/** Turns a path glob into an anchored regular expression (for PostgreSQL `~`), every other character literal. */
export function globToRegex(glob: string): string {
  let out = '^';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      out += '.*';
      i++;
    } else if (c === '*') out += '[^/]*';
    else out += /[\\^$.|?+()[\]{}]/.test(c) ? `\\${c}` : c;
  }
  return `${out}$`;
}

/** Whether a parsed field holds a list (it does not when its own validation failed). */
export function isList(v: unknown): v is unknown[] {
  return Array.isArray(v);
}
