import { erpAssetsV1, fixtures, telemetryRawV1 } from '@weir/contracts';
import type { KafkaMessage } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { buildDlqHeaders, decodeBatch, DLQ_HEADERS, headersToStrings, MAX_DLQ_REASON } from './dlq';

const source = { topic: 'p.ot.telemetry.raw.v1', partition: 2, offset: '41' };

function record(offset: string, value: Buffer | null, extra: Partial<KafkaMessage> = {}): KafkaMessage {
  return { key: Buffer.from('k'), value, timestamp: '1764057600000', attributes: 0, offset, headers: {}, ...extra } as KafkaMessage;
}

describe('buildDlqHeaders', () => {
  it('keeps the original headers and adds the reason and source', () => {
    const h = buildDlqHeaders({ 'trace-id': Buffer.from('abc') }, { code: 'CONTRACTS.NOT_JSON', reason: 'not JSON: Unexpected token' }, source);
    expect(h).toEqual({
      'trace-id': Buffer.from('abc'),
      'weir-error-code': 'CONTRACTS.NOT_JSON',
      'weir-error-reason': 'not JSON: Unexpected token',
      'weir-source-topic': 'p.ot.telemetry.raw.v1',
      'weir-source-partition': '2',
      'weir-source-offset': '41',
    });
  });

  it('replaces DLQ headers a replayed message already carried', () => {
    const h = buildDlqHeaders({ [DLQ_HEADERS.code]: Buffer.from('OLD'), [DLQ_HEADERS.sourceOffset]: Buffer.from('7') }, { code: 'CONTRACTS.SCHEMA', reason: 'seq: required' }, source);
    expect(h[DLQ_HEADERS.code]).toBe('CONTRACTS.SCHEMA');
    expect(h[DLQ_HEADERS.sourceOffset]).toBe('41');
  });

  it('truncates a long reason to the header limit', () => {
    const h = buildDlqHeaders(undefined, { code: 'CONTRACTS.SCHEMA', reason: 'x'.repeat(5000) }, source);
    expect((h[DLQ_HEADERS.reason] as string).length).toBe(MAX_DLQ_REASON);
  });
});

describe('headersToStrings', () => {
  it('decodes buffers and keeps repeated headers as arrays', () => {
    expect(headersToStrings({ a: Buffer.from('1'), b: [Buffer.from('x'), Buffer.from('y')], c: undefined })).toEqual({ a: '1', b: ['x', 'y'] });
  });

  it('gives an empty object for no headers', () => {
    expect(headersToStrings(undefined)).toEqual({});
  });
});

describe('decodeBatch', () => {
  const valid = fixtures['ot.telemetry.raw.v1']!.valid;
  const invalidSchema = fixtures['ot.telemetry.raw.v1']!.invalid[0]!.message;

  it('passes valid messages on in order and sends each invalid one to the DLQ with its code', () => {
    const batch = [
      record('10', Buffer.from(JSON.stringify(valid[0]))),
      record('11', Buffer.from('{not json')),
      record('12', Buffer.from(JSON.stringify(valid[1])), { headers: { h: Buffer.from('v') } }),
      record('13', Buffer.from(JSON.stringify(invalidSchema))),
      record('14', Buffer.alloc(0)),
    ];
    const out = decodeBatch(telemetryRawV1, 'p.ot.telemetry.raw.v1', 0, batch);
    expect(out.valid.map((m) => m.offset)).toEqual(['10', '12']);
    // The fast check vouched for the value, so its bytes come along as its JSON.
    expect(out.valid[1]).toEqual({ value: valid[1], key: 'k', partition: 0, offset: '12', timestamp: 1764057600000, headers: { h: 'v' }, json: Buffer.from(JSON.stringify(valid[1])) });
    expect(out.invalid.map((d) => [d.offset, d.code])).toEqual([
      ['11', 'CONTRACTS.NOT_JSON'],
      ['13', 'CONTRACTS.SCHEMA'],
      ['14', 'CONTRACTS.EMPTY'],
    ]);
    expect(out.invalid[1]!.message.value).toEqual(Buffer.from(JSON.stringify(invalidSchema)));
    expect(out.invalid[1]!.message.headers![DLQ_HEADERS.reason]).toMatch(/seq/);
  });

  it('passes a tombstone of a compacted topic on as a null value', () => {
    const out = decodeBatch(erpAssetsV1, 'erp.assets.v1', 1, [record('5', null, { key: Buffer.from('asset-1') })]);
    expect(out.invalid).toEqual([]);
    expect(out.valid).toEqual([{ value: null, key: 'asset-1', partition: 1, offset: '5', timestamp: 1764057600000, headers: {} }]);
  });

  it('sends a null value on a delete topic to the DLQ', () => {
    const out = decodeBatch(telemetryRawV1, 't', 0, [record('1', null)]);
    expect(out.invalid.map((d) => d.code)).toEqual(['CONTRACTS.EMPTY']);
  });
});
