import { z } from 'zod';

/** Where a raw page ended: the last row's time (microseconds, UTC), series and sequence number. */
export interface RawCursor {
  time: string;
  seriesId: number;
  seq: string;
}

const cursorSchema = z.strictObject({
  t: z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/),
  s: z.number().int().min(1).max(2_147_483_647),
  q: z.string().regex(/^-?\d{1,19}$/),
});

/** Opaque cursor text for a position. */
export function encodeCursor(c: RawCursor): string {
  return Buffer.from(JSON.stringify({ t: c.time, s: c.seriesId, q: c.seq })).toString('base64url');
}

/** The position of a cursor, or undefined when it is not one this API made. */
export function decodeCursor(text: string): RawCursor | undefined {
  if (!/^[A-Za-z0-9_-]{1,400}$/.test(text)) return undefined;
  try {
    const parsed = cursorSchema.safeParse(JSON.parse(Buffer.from(text, 'base64url').toString('utf8')));
    return parsed.success ? { time: parsed.data.t, seriesId: parsed.data.s, seq: parsed.data.q } : undefined;
  } catch {
    return undefined;
  }
}
