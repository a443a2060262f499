// Wall-clock time in an IANA time zone, with Intl only (Node ships the full ICU
// time zone data), so DST changes are handled without a date library.

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    formatters.set(timeZone, f);
  }
  return f;
}

/** True when `timeZone` is an IANA zone this runtime knows (`Europe/Berlin`, `UTC`). */
export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** A calendar date and wall-clock time, as read on a clock in some zone. */
export interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** The wall clock in `timeZone` at the instant `ms` (epoch milliseconds). */
export function wallClockAt(timeZone: string, ms: number): WallClock {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(ms))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return { year: parts['year']!, month: parts['month']!, day: parts['day']!, hour: parts['hour']! % 24, minute: parts['minute']!, second: parts['second']! };
}

/** Offset of `timeZone` from UTC at the instant `ms`, in minutes (+60 for CET). */
export function offsetMinutesAt(timeZone: string, ms: number): number {
  const w = wallClockAt(timeZone, ms);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return Math.round((asUtc - Math.floor(ms / 1000) * 1000) / 60_000);
}

/**
 * The instant (epoch ms) at which clocks in `timeZone` show the wall-clock time.
 * Like Temporal's `compatible` disambiguation: a time that occurs twice (the hour
 * repeated when DST ends) is the earlier one; a time that does not exist (the hour
 * skipped when DST starts) is moved forward by the length of the gap (02:30 -> 03:30).
 */
export function wallClockToInstant(timeZone: string, w: WallClock): number {
  const local = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  // No zone changes its offset twice within a day, so the offsets half a day either side are the candidates.
  const before = offsetMinutesAt(timeZone, local - 12 * 3_600_000);
  const after = offsetMinutesAt(timeZone, local + 12 * 3_600_000);
  const candidates = [...new Set([before, after])]
    .map((offset) => local - offset * 60_000)
    .filter((t) => local - offsetMinutesAt(timeZone, t) * 60_000 === t)
    .sort((a, b) => a - b);
  if (candidates.length > 0) return candidates[0]!;
  return local - before * 60_000;
}

const pad = (n: number, width = 2): string => String(Math.abs(n)).padStart(width, '0');

/** ISO 8601 with the zone's offset at that instant (`2026-03-29T06:00:00+02:00`); `Z` for UTC. */
export function formatInZone(timeZone: string, ms: number): string {
  const w = wallClockAt(timeZone, ms);
  const offset = offsetMinutesAt(timeZone, ms);
  const suffix = offset === 0 ? 'Z' : `${offset > 0 ? '+' : '-'}${pad(Math.trunc(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`;
  return `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)}T${pad(w.hour)}:${pad(w.minute)}:${pad(w.second)}${suffix}`;
}

/** The calendar date `days` after `date` (proleptic Gregorian, no zone involved). */
export function addDays(date: { year: number; month: number; day: number }, days: number): { year: number; month: number; day: number } {
  const d = new Date(Date.UTC(date.year, date.month - 1, date.day + days));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

/** Day of the week of a calendar date, 0 = Sunday. */
export function weekday(date: { year: number; month: number; day: number }): number {
  return new Date(Date.UTC(date.year, date.month - 1, date.day)).getUTCDay();
}

/** `YYYY-MM-DD` of a calendar date. */
export function isoDate(date: { year: number; month: number; day: number }): string {
  return `${pad(date.year, 4)}-${pad(date.month)}-${pad(date.day)}`;
}
