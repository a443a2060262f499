import { createHash } from 'node:crypto';
import { createLogger } from '@weir/observability';
import { createTestDatabase, type TestDatabase } from '@weir/testing';
import { copyRows, copyUpsert, createPool, databaseSettingsSchema, Migrator, pgArray } from '@weir/timescale';
import type { Pool, PoolClient } from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

const logger = createLogger({ service: 'timescale-test', level: 'silent' });
let db: TestDatabase;
let pool: Pool;
let client: PoolClient;

beforeAll(async () => {
  db = await createTestDatabase(inject('databaseUrl'), 'weir_copy');
  pool = createPool(databaseSettingsSchema.parse({ url: db.url, poolMax: 3 }), logger);
  await new Migrator({ pool, logger }).up();
  client = await pool.connect();
});

afterAll(async () => {
  client?.release();
  await pool?.end();
  await db?.drop();
});

// A small deterministic PRNG (mulberry32) so a failing run can be reproduced.
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FRAGMENTS = ['plain', '', 'tab\there', 'new\nline', 'cr\rlf\r\n', 'back\\slash', '\\N', '\\.', 'a\\tb', '"quoted"', "it's", 'ü ñ ß', '速度', '😀🏭', 'e\u0301', 'שלום', '\u0001\u001f\u007f', '{a,b}', ',', 'NULL', ' padded ', 'x'.repeat(300)];
const DOUBLES = [0, -0, 0.1, -1.5, 1e-300, 5e-324, 1.7976931348623157e308, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN, 123456.789012345];

type RoundTripRow = [id: number, t: string | null, ts: string | Date | null, f: number | null, b: boolean | null, j: unknown, n: bigint | null, bytes: Buffer | null, arr: ReturnType<typeof pgArray> | null];

function makeRows(count: number): { rows: RoundTripRow[]; expected: string[] } {
  const rnd = prng(42);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const text = (): string => Array.from({ length: Math.floor(rnd() * 4) }, () => pick(FRAGMENTS)).join('');
  const rows: RoundTripRow[] = [];
  const expected: string[] = [];
  const base = Date.UTC(2024, 0, 1);
  for (let id = 0; id < count; id++) {
    const t = rnd() < 0.1 ? null : text();
    let ts: string | Date | null = null;
    let tsText = 'N';
    const r = rnd();
    if (r < 0.6) {
      const ms = base + Math.floor(rnd() * 86_400_000 * 365);
      const micros = String(Math.floor(rnd() * 1000)).padStart(3, '0');
      const iso = new Date(ms).toISOString().slice(0, 23);
      ts = `${iso}${micros}Z`;
      tsText = `${iso}${micros}`;
    } else if (r < 0.95) {
      ts = new Date(base + Math.floor(rnd() * 86_400_000 * 365));
      tsText = `${ts.toISOString().slice(0, 23)}000`;
    }
    const f = rnd() < 0.05 ? null : rnd() < 0.3 ? pick(DOUBLES) : (rnd() - 0.5) * 10 ** Math.floor(rnd() * 20 - 10);
    const b = rnd() < 0.1 ? null : rnd() < 0.5;
    const j = rnd() < 0.2 ? null : { k: text(), n: Math.floor(rnd() * 1000), list: [text(), null, rnd() < 0.5] };
    const n = rnd() < 0.1 ? null : BigInt(Math.floor((rnd() - 0.5) * 2 ** 52)) * 2047n;
    const bytes = rnd() < 0.2 ? null : Buffer.from(Array.from({ length: Math.floor(rnd() * 16) }, () => Math.floor(rnd() * 256)));
    const items = rnd() < 0.2 ? null : Array.from({ length: Math.floor(rnd() * 4) }, () => (rnd() < 0.15 ? null : text()));
    rows.push([id, t, ts, f, b, j, n, bytes, items && pgArray(items)]);

    const float = f === null ? 'N' : (() => {
      const buf = Buffer.alloc(8);
      buf.writeDoubleBE(f);
      return buf.toString('hex');
    })();
    const json = j === null ? 'N' : `${Buffer.byteLength(JSON.stringify(j))}:${JSON.stringify(j)}`;
    expected.push([id, t === null ? 'N' : `${Buffer.byteLength(t)}:${t}`, tsText, float, b === null ? 'N' : String(b), json, n === null ? 'N' : n.toString(), bytes === null ? 'N' : bytes.toString('hex'), items === null ? 'N' : JSON.stringify(items)].join('|'));
  }
  return { rows, expected };
}

async function* slowly<T>(rows: readonly T[]): AsyncGenerator<T> {
  for (let i = 0; i < rows.length; i++) {
    // Yield to the event loop now and then, as a consumer reading from Kafka would.
    if (i % 10_000 === 0) await new Promise((r) => setImmediate(r));
    yield rows[i]!;
  }
}

describe('copyRows', () => {
  it('round-trips 100,000 rows exactly: NULLs, unicode, tabs, newlines, backslashes, microseconds', async () => {
    await client.query(`create table copy_rt (id int primary key, t text, ts timestamptz, f float8, b boolean, j json, n bigint, bytes bytea, arr text[])`);
    const { rows, expected } = makeRows(100_000);

    const written = await copyRows(client, { table: 'copy_rt', columns: ['id', 't', 'ts', 'f', 'b', 'j', 'n', 'bytes', 'arr'], rows: slowly(rows) });
    expect(written).toBe(100_000);

    const { rows: result } = await client.query<{ count: string; md5: string }>(`
      select count(*), md5(string_agg(concat_ws('|', id,
          coalesce(octet_length(t) || ':' || t, 'N'),
          coalesce(to_char(ts at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'), 'N'),
          coalesce(encode(float8send(f), 'hex'), 'N'),
          coalesce(b::text, 'N'),
          coalesce(octet_length(j::text) || ':' || j::text, 'N'),
          coalesce(n::text, 'N'),
          coalesce(encode(bytes, 'hex'), 'N'),
          coalesce(array_to_json(arr)::text, 'N')), E'\\n' order by id)) as md5
        from copy_rt`);
    expect(result[0]).toEqual({ count: '100000', md5: createHash('md5').update(expected.join('\n'), 'utf8').digest('hex') });
  });

  it('writes from a plain iterable and counts what the server stored', async () => {
    await client.query('create table copy_sync (a int, b text)');
    expect(await copyRows(client, { table: 'copy_sync', columns: ['a', 'b'], rows: [[1, 'x'], [2, null]] })).toBe(2);
    expect(await copyRows(client, { table: 'copy_sync', columns: ['a', 'b'], rows: [] })).toBe(0);
    const { rows } = await client.query('select a, b from copy_sync order by a');
    expect(rows).toEqual([{ a: 1, b: 'x' }, { a: 2, b: null }]);
  });

  it('aborts the whole COPY on a malformed row and leaves the client usable', async () => {
    await client.query('create table copy_fail (a int)');
    function* rows(): Generator<unknown[]> {
      for (let i = 0; i < 50_000; i++) yield i === 30_000 ? [1, 2] : [i];
    }
    await expect(copyRows(client, { table: 'copy_fail', columns: ['a'], rows: rows() })).rejects.toThrow(/COPY.ROW_LENGTH: row 30000 has 2 value\(s\) for 1 column\(s\)/);
    const { rows: after } = await client.query<{ count: string }>('select count(*) from copy_fail');
    expect(after[0]!.count).toBe('0');
  });

  it('reports a value the server refuses and leaves the client usable', async () => {
    await expect(copyRows(client, { table: 'copy_fail', columns: ['a'], rows: [[1], ['one']] })).rejects.toMatchObject({ code: '22P02' });
    expect((await client.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
  });

  it('quotes identifiers, so a hostile column name is only a name', async () => {
    await expect(copyRows(client, { table: 'copy_sync', columns: ['a) FROM STDIN; DROP TABLE copy_sync; --'], rows: [[1]] })).rejects.toMatchObject({ code: '42703' });
    expect((await client.query(`select to_regclass('copy_sync') is not null as exists`)).rows).toEqual([{ exists: true }]);
  });
});

describe('copyUpsert', () => {
  const columns = ['time', 'series_id', 'value', 'status', 'seq', 'origin'];
  const samples = Array.from({ length: 1000 }, (_, i) => [new Date(Date.UTC(2024, 0, 1) + i * 1000).toISOString(), (i % 10) + 1, i / 3, i % 7 === 0 ? 2150891520 : 0, BigInt(i), 'opcua']);

  it('inserts new rows once: a second write of the same rows inserts nothing', async () => {
    const first = await copyUpsert(client, { table: 'telemetry', columns, conflictColumns: ['series_id', 'time', 'seq'], rows: samples });
    const second = await copyUpsert(client, { table: 'telemetry', columns, conflictColumns: ['series_id', 'time', 'seq'], rows: samples });
    expect([first, second]).toEqual([1000, 0]);
    const { rows } = await client.query<{ count: string; bad: string }>(`select count(*), count(*) filter (where opcua_status_severity(status) = 'bad') as bad from telemetry`);
    expect(rows[0]).toEqual({ count: '1000', bad: '143' });
  });

  it('counts a row repeated within one batch once, and a half-new batch by its new rows', async () => {
    const batch = [...samples.slice(990), ...samples.slice(990), [new Date(Date.UTC(2025, 0, 1)).toISOString(), 1, 1.5, 0, 1n, 'historian'], [new Date(Date.UTC(2025, 0, 1)).toISOString(), 1, 1.5, 0, 1n, 'historian']];
    expect(await copyUpsert(client, { table: 'telemetry', columns, rows: batch })).toBe(1);
  });

  it('writes nothing when the caller rolls back, and leaves no staging table behind', async () => {
    await client.query('BEGIN');
    expect(await copyUpsert(client, { table: 'telemetry_other', columns: ['time', 'series_id', 'value_json', 'seq'], rows: [['2024-01-01T00:00:00Z', 1, { a: [1, 'b\tc'] }, 1n]] })).toBe(1);
    await client.query('ROLLBACK');
    const { rows } = await client.query<{ rows: string; stages: string }>(`select (select count(*) from telemetry_other) as rows, (select count(*) from pg_class where relname like 'weir_stage_%') as stages`);
    expect(rows[0]).toEqual({ rows: '0', stages: '0' });
  });

  it('writes array, jsonb and validity-derived columns of the event and context tables', async () => {
    const finding = { class_uid: 2004, finding_info: { uid: 'inc-1', title: 'Parameter changed over VPN' } };
    const alert = ['2024-03-01T10:00:00.123456Z', 'inc-1', 1, 4, 'Parameter changed over VPN', pgArray(['T0836', 'T0822']), pgArray(['acme/hamburg/line1']), finding];
    const alertColumns = ['time', 'finding_uid', 'activity_id', 'severity_id', 'title', 'attack_techniques', 'resource_uids', 'finding'];
    expect(await copyUpsert(client, { table: 'alerts', columns: alertColumns, rows: [alert, alert] })).toBe(1);
    const { rows } = await client.query(`select time::text, attack_techniques, finding from alerts where 'T0836' = any(attack_techniques)`);
    expect(rows).toEqual([{ time: '2024-03-01 10:00:00.123456+00', attack_techniques: ['T0836', 'T0822'], finding }]);

    const asset = ['line1', '2024-01-01T00:00:00Z', null, 'area1', 'line', 'Line 1', 'acme/hamburg/packaging/line1', { temperature: { low: 2, high: 8 } }, '2024-01-01T00:00:00Z'];
    expect(await copyUpsert(client, { table: 'assets', columns: ['id', 'valid_from', 'valid_to', 'parent_id', 'level', 'name', 'path', 'limits', 'changed_at'], rows: [asset] })).toBe(1);
    const { rows: found } = await client.query(`select id, validity::text from assets where path like 'acme/hamburg/%' and validity @> '2030-01-01T00:00:00Z'::timestamptz`);
    expect(found).toEqual([{ id: 'line1', validity: '["2024-01-01 00:00:00+00",)' }]);
  });
});
