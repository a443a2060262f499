/**
 * Parses a .NET TimeSpan string as OPC Publisher writes them —
 * `[-][d.]hh:mm[:ss[.fffffff]]` or a bare number of days `d` — into
 * milliseconds (rounded); undefined when it is not one.
 * `00:00:01.500` is 1,500; `1.02:00:00` is one day and two hours.
 */
export function parseTimespan(text: string): number | undefined {
  const s = text.trim();
  const days = /^(-)?(\d+)$/.exec(s);
  if (days) return (days[1] ? -1 : 1) * Number(days[2]) * 86_400_000;
  const m = /^(-)?(?:(\d+)\.)?(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,7}))?)?$/.exec(s);
  if (!m) return undefined;
  const [, neg, d, h, min, sec, frac] = m;
  const hours = Number(h);
  const minutes = Number(min);
  const seconds = Number(sec ?? 0);
  if (hours > 23 || minutes > 59 || seconds > 59) return undefined;
  const ms = Number(d ?? 0) * 86_400_000 + hours * 3_600_000 + minutes * 60_000 + seconds * 1000 + (frac ? Number(`0.${frac}`) * 1000 : 0);
  return (neg ? -1 : 1) * Math.round(ms);
}
