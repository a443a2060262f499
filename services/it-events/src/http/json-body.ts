/** One item of a request body: a decoded document, or a line that is not JSON (kept, with the reason). */
export type BodyItem = { doc: unknown } | { invalid: string; reason: string };

/** How a body was framed, for the received metric. */
export type BodyFormat = 'json' | 'ndjson';

/** The outcome of reading a body: its items, or why the whole body is refused. */
export type BodyResult = { ok: true; format: BodyFormat; items: BodyItem[] } | { ok: false; status: 400 | 415; message: string };

const JSON_TYPES = new Set(['application/json']);
const NDJSON_TYPES = new Set(['application/x-ndjson', 'application/ndjson', 'application/jsonl', 'application/json-seq']);

/**
 * Reads a POST body: `application/json` holding one object or an array of
 * them, or NDJSON (one document per line). A JSON body that does not parse is
 * refused as a whole (400: the sender still has it); in NDJSON a bad line is
 * kept as an item with its reason so the good lines are not held hostage.
 */
export function readJsonBody(contentType: string | undefined, body: string): BodyResult {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (JSON_TYPES.has(type)) {
    let doc: unknown;
    try {
      doc = JSON.parse(body);
    } catch (err) {
      return { ok: false, status: 400, message: `body is not JSON: ${(err as Error).message}` };
    }
    if (Array.isArray(doc)) {
      if (doc.length === 0) return { ok: false, status: 400, message: 'body is an empty array' };
      return { ok: true, format: 'json', items: doc.map((d: unknown) => ({ doc: d })) };
    }
    return { ok: true, format: 'json', items: [{ doc }] };
  }
  if (NDJSON_TYPES.has(type)) {
    const items: BodyItem[] = [];
    body.split('\n').forEach((line, i) => {
      // json-seq puts an RS (0x1e) before each document.
      const text = (line.startsWith('\u001e') ? line.slice(1) : line).trim();
      if (text.length === 0) return;
      try {
        items.push({ doc: JSON.parse(text) as unknown });
      } catch (err) {
        items.push({ invalid: text, reason: `NDJSON line ${i + 1} is not JSON: ${(err as Error).message}` });
      }
    });
    if (items.length === 0) return { ok: false, status: 400, message: 'body holds no NDJSON lines' };
    return { ok: true, format: 'ndjson', items };
  }
  return { ok: false, status: 415, message: `content type "${type || '(none)'}" is not accepted; use application/json (an object or an array) or application/x-ndjson` };
}
