import { describe, expect, it } from 'vitest';
import { readJsonBody } from './json-body';

describe('readJsonBody', () => {
  it('reads one object', () => {
    expect(readJsonBody('application/json', '{"a":1}')).toEqual({ ok: true, format: 'json', items: [{ doc: { a: 1 } }] });
  });

  it('reads an array as one item per element', () => {
    expect(readJsonBody('application/json; charset=utf-8', '[{"a":1},{"b":2}]')).toEqual({ ok: true, format: 'json', items: [{ doc: { a: 1 } }, { doc: { b: 2 } }] });
  });

  it('refuses a JSON body that does not parse with 400', () => {
    expect(readJsonBody('application/json', '{"a":')).toMatchObject({ ok: false, status: 400, message: expect.stringContaining('body is not JSON') });
  });

  it('reads NDJSON line by line and keeps a bad line with its line number', () => {
    expect(readJsonBody('application/x-ndjson', '{"a":1}\nnot json\n\n{"b":2}\n')).toEqual({
      ok: true,
      format: 'ndjson',
      items: [{ doc: { a: 1 } }, { invalid: 'not json', reason: expect.stringContaining('NDJSON line 2 is not JSON') }, { doc: { b: 2 } }],
    });
  });

  it('refuses other content types with 415', () => {
    expect(readJsonBody('text/plain', 'x')).toMatchObject({ ok: false, status: 415 });
  });
});
