/** Key names whose values are secrets wherever they appear. */
export const SECRET_KEY_PATTERN = /pass(word|phrase)?$|secret|token|api[-_]?key|private[-_]?key|credential|^auth(orization)?$/i;

/** What a redacted value is replaced with. */
export const REDACTED = '[redacted]';

/** Masks the password of a URL's userinfo (`postgres://weir:[redacted]@db/weir`); other text is returned as is. */
export function redactUrl(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/[^:/@\s]+:)([^@\s]+)(@)/gi, `$1${REDACTED}$3`);
}

/** A deep copy of a configuration with secret values masked, safe to log. */
export function redact<T>(value: T): T {
  return redactValue(value, undefined) as T;
}

function redactValue(value: unknown, key: string | undefined): unknown {
  if (key !== undefined && SECRET_KEY_PATTERN.test(key) && value !== undefined && value !== null && value !== '') return REDACTED;
  if (typeof value === 'string') return redactUrl(value);
  if (Array.isArray(value)) return value.map((v) => redactValue(v, undefined));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactValue(v, k)]));
  }
  return value;
}
