import { DetectionError } from './detection.error';

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Parses a Sigma timespan (`30s`, `5m`, `2h`, `1d`; `w` too) into ms; throws DETECTION.RULE_INVALID otherwise. */
export function parseTimespan(text: unknown, file = '<rule>', line?: number): number {
  const m = typeof text === 'string' ? /^(\d+)([smhdw])$/.exec(text.trim()) : null;
  if (!m) throw new DetectionError('DETECTION.RULE_INVALID', `timespan ${JSON.stringify(text)} is not <number><s|m|h|d|w>`, { file, line });
  const ms = Number(m[1]) * UNITS[m[2]!]!;
  if (ms <= 0) throw new DetectionError('DETECTION.RULE_INVALID', 'timespan must be positive', { file, line });
  return ms;
}
