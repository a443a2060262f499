import { describe, expect, it } from 'vitest';
import { CsvSyntaxError, parseCsv } from './csv';
import { classifyFile, FileInvalidError, parseDroppedFile } from './file-records';

const options = { timeZone: 'Europe/Berlin', defaultChangedAt: '2026-11-25T08:00:00.000Z' };

function problemsOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof FileInvalidError) return err.problems;
    throw err;
  }
  throw new Error('expected a FileInvalidError');
}

describe('CSV', () => {
  it('reads quoted fields with delimiters, doubled quotes and line breaks, and numbers lines from the header', () => {
    const { header, rows } = parseCsv('\ufeffid,name,note\r\n1,"Filler, 1","say ""hi"""\r\n\r\n2,"two\nlines",x\n3,last,\n');
    expect(header).toEqual(['id', 'name', 'note']);
    expect(rows).toEqual([
      { line: 2, values: { id: '1', name: 'Filler, 1', note: 'say "hi"' } },
      { line: 4, values: { id: '2', name: 'two\nlines', note: 'x' } },
      { line: 6, values: { id: '3', name: 'last', note: '' } },
    ]);
  });

  it('takes ; as the delimiter when the header says so', () => {
    expect(parseCsv('id;plannedQuantity\nA;12,5\n').rows[0]!.values).toEqual({ id: 'A', plannedQuantity: '12,5' });
  });

  it('reports syntax errors with their line', () => {
    expect(() => parseCsv('id,name\n1,"open\n2,x\n')).toThrow(CsvSyntaxError);
    try {
      parseCsv('id,name\n1,a\n2,b,c\n');
    } catch (err) {
      expect((err as CsvSyntaxError).line).toBe(3);
      expect((err as Error).message).toBe('3 fields but the header has 2 columns');
    }
    expect(() => parseCsv('id,id\n')).toThrow(/appears twice/);
  });
});

describe('dropped files', () => {
  it('are classified by name', () => {
    expect(classifyFile('assets-2026-11-25.csv')).toEqual({ kind: 'assets', format: 'csv' });
    expect(classifyFile('Production-Orders.JSON')).toEqual({ kind: 'productionOrders', format: 'json' });
    expect(classifyFile('work-orders.xlsx')).toBeUndefined();
    expect(classifyFile('orders.csv')).toBeUndefined();
  });

  it('turn CSV rows into assets: empty parent = root, attributes columns, local times in the file zone', () => {
    const csv = ['id,parentId,level,name,costCentre,validFrom,attributes.vendor,deleted', 'hamburg,,site,Hamburg,,2020-01-01,,', 'line1,hamburg,line,Line 1,4711,2020-01-01 06:00,Krones,', 'old,hamburg,line,Old,,,,true'].join('\n');
    const parsed = parseDroppedFile('assets.csv', csv, options);
    expect(parsed.kind).toBe('assets');
    expect(parsed.deletions).toEqual(['old']);
    expect(parsed.upserts).toEqual([
      { id: 'hamburg', parentId: null, level: 'site', name: 'Hamburg', validFrom: '2020-01-01T00:00:00+01:00', changedAt: '2026-11-25T08:00:00.000Z', attributes: {} },
      { id: 'line1', parentId: 'hamburg', level: 'line', name: 'Line 1', costCentre: '4711', validFrom: '2020-01-01T06:00:00+01:00', changedAt: '2026-11-25T08:00:00.000Z', attributes: { vendor: 'Krones' } },
    ]);
  });

  it('convert numbers, also with a decimal comma', () => {
    const csv = 'id;assetId;material;plannedQuantity;idealCycleTimeS;status;validFrom\n1000123;line1;FG-330;12000;0,15;released;2026-11-25T06:00:00Z\n';
    const [order] = parseDroppedFile('production-orders.csv', csv, options).upserts;
    expect(order).toMatchObject({ id: '1000123', plannedQuantity: 12000, idealCycleTimeS: 0.15, status: 'released' });
  });

  it('name the file, the line and the field of every problem, and publish nothing of the file', () => {
    const csv = ['id,assetId,type,status,validFrom', '4000001,filler1,PM01,released,2026-11-25T07:00:00Z', '4000002,filler1,PM01,maybe,2026-11-25T07:00:00Z', ',filler1,PM02,released,2026-11-25T07:00:00Z', '4000004,,PM02,released,yesterday'].join('\n');
    const problems = problemsOf(() => parseDroppedFile('work-orders-7.csv', csv, options));
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(/^work-orders-7\.csv line 3 \(id 4000002\): status: Invalid option/);
    expect(problems[1]).toBe('work-orders-7.csv line 4: id: required');
    expect(problems[2]).toMatch(/^work-orders-7\.csv line 5 \(id 4000004\): assetId: .*validFrom: Invalid ISO datetime|^work-orders-7\.csv line 5 \(id 4000004\): validFrom/);
  });

  it('read JSON arrays or {records}, with record numbers and lines in errors', () => {
    const json = '{\n  "records": [\n    {"id": "4000001", "assetId": "filler1", "type": "PM01", "status": "released", "validFrom": "2026-11-25T07:00:00Z"},\n    {"id": "4000002", "assetId": "filler1", "type": "PM01", "status": "done"}\n  ]\n}\n';
    const problems = problemsOf(() => parseDroppedFile('work-orders.json', json, options));
    expect(problems).toEqual([expect.stringMatching(/^work-orders\.json record 2 \(line 4\) \(id 4000002\): status: Invalid option/)]);
    const ok = parseDroppedFile('work-orders.json', '[{"id":"1","assetId":"a","type":"PM01","status":"released","validFrom":"2026-11-25T07:00:00Z","deleted":false},{"id":"2","deleted":true}]', options);
    expect(ok.upserts.map((u) => u.id)).toEqual(['1']);
    expect(ok.deletions).toEqual(['2']);
  });

  it('report broken JSON with its line', () => {
    const problems = problemsOf(() => parseDroppedFile('assets.json', '[\n {"id": "a",\n  "name": }\n]', options));
    expect(problems[0]).toMatch(/^assets\.json line 3: not JSON/);
  });
});
