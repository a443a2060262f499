/** A JSON object as decoded from a request or message. */
export type JsonObject = Record<string, unknown>;

/** True for a plain JSON object. */
export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Reads a dotted path, accepting both nested objects and flattened keys (ECS
 * documents arrive either way: `{"winlog":{"event_id":4624}}` or `{"winlog.event_id":4624}`).
 */
export function get(doc: JsonObject, path: string): unknown {
  if (path in doc) return doc[path];
  const dot = path.indexOf('.');
  if (dot < 0) return undefined;
  for (let i = dot; i >= 0; i = path.indexOf('.', i + 1)) {
    const head = path.slice(0, i);
    const child = doc[head];
    if (isObject(child)) {
      const v = get(child, path.slice(i + 1));
      if (v !== undefined) return v;
    }
  }
  return undefined;
}

/** A path's value as a non-empty string (numbers are turned into text), else undefined. */
export function str(doc: JsonObject, path: string): string | undefined {
  const v = get(doc, path);
  if (typeof v === 'string') return v.length > 0 ? v : undefined;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

/** A path's value as a list of strings (a single string counts as a list of one). */
export function strList(doc: JsonObject, path: string): string[] {
  const v = get(doc, path);
  if (typeof v === 'string') return [v];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}
