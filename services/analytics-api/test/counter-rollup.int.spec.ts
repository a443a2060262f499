import type { TestDatabase } from '@weir/testing';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runSql, scenarioDatabase } from './helpers';

// kpi.oee_slices reads counter increments from counter_increments_1m where a minute can be taken whole and from the
// raw samples elsewhere; the numbers must be the raw ones exactly. A dense day that makes every edge case happen:
// 1 Hz counters with sub-second jitter, resets of the total counter and the energy meter, Bad samples, a shift change
// and an order change off the minute grid, a down stretch, an unknown (Bad data) stretch and a data gap mid-minute.
const DAY = `
INSERT INTO assets (id, valid_from, parent_id, level, name, path, cost_centre, changed_at) VALUES
  ('e', '2020-01-01Z', NULL, 'enterprise', 'E', 'e', NULL, '2020-01-01Z'),
  ('s', '2020-01-01Z', 'e', 'site', 'S', 'e/s', NULL, '2020-01-01Z'),
  ('l', '2020-01-01Z', 's', 'line', 'L', 'e/s/l', 'CC-1', '2020-01-01Z'),
  ('m', '2020-01-01Z', 'l', 'machine', 'M', 'e/s/l/m', 'CC-1', '2020-01-01Z');
INSERT INTO series (id, source_id, node_id, browse_path, data_type, asset_id, unit, first_seen, last_seen) VALUES
  (1, 'plc', 'ns=3;s=M.State', 'M/State', 'String', 'm', NULL, '2024-05-06T05:00Z', '2024-05-06T23:00Z'),
  (2, 'plc', 'ns=3;s=M.TotalCount', 'M/TotalCount', 'UInt32', 'm', NULL, '2024-05-06T05:00Z', '2024-05-06T23:00Z'),
  (3, 'plc', 'ns=3;s=M.GoodCount', 'M/GoodCount', 'UInt32', 'm', NULL, '2024-05-06T05:00Z', '2024-05-06T23:00Z'),
  (4, 'plc', 'ns=3;s=M.EnergyMeter', 'M/EnergyMeter', 'Double', 'm', 'kWh', '2024-05-06T05:00Z', '2024-05-06T23:00Z');
INSERT INTO shifts (id, valid_from, valid_to, site_id, name, planned_break_minutes, changed_at) VALUES
  ('early', '2024-05-06T06:00:00Z', '2024-05-06T14:00:20Z', 's', 'early', 30, '2024-05-01Z'),
  ('late', '2024-05-06T14:00:20Z', '2024-05-06T22:00:00Z', 's', 'late', 30, '2024-05-01Z');
INSERT INTO production_orders (id, valid_from, valid_to, asset_id, material, planned_quantity, ideal_cycle_time_s, status, changed_at) VALUES
  ('PO-A', '2024-05-06T06:00:00Z', '2024-05-06T10:00:30Z', 'l', 'A', 5000, 2.5, 'completed', '2024-05-06T22:00Z'),
  ('PO-B', '2024-05-06T10:00:30Z', '2024-05-06T22:00:00Z', 'l', 'B', 9000, 2.9, 'completed', '2024-05-06T22:00Z');
INSERT INTO machine_state_intervals (series_id, start_time, end_time, state, reason_code) VALUES
  (1, '2024-05-06T05:00:00Z', '2024-05-06T09:17:23Z', 'running', NULL),
  (1, '2024-05-06T09:17:23Z', '2024-05-06T09:40:05Z', 'down', 303),
  (1, '2024-05-06T09:40:05Z', '2024-05-06T13:02:00Z', 'running', NULL),
  (1, '2024-05-06T13:02:00Z', '2024-05-06T13:05:30.5Z', 'unknown', NULL),
  (1, '2024-05-06T13:05:30.5Z', '2024-05-06T23:00:00Z', 'running', NULL);
INSERT INTO data_gaps (source_id, node_id, from_time, to_time, detected_by, reason, event_id) VALUES
  ('plc', NULL, '2024-05-06T11:10:10Z', '2024-05-06T11:12:50Z', 'connector', 'connection lost', 'gap-1');
-- 05:50 to 20:50 at 1 Hz with sub-second jitter; total resets at i = 33000 (15:00), energy at i = 20000 (11:23:20).
INSERT INTO telemetry (time, series_id, value, status, seq)
SELECT '2024-05-06T05:50:00Z'::timestamptz + make_interval(secs => i + ((i * 7919) % 1000) / 1000.0), s.id,
       CASE s.id
         WHEN 2 THEN floor((CASE WHEN i < 33000 THEN i ELSE i - 33000 END) / 3.0)
         WHEN 3 THEN floor((CASE WHEN i < 33000 THEN i ELSE i - 33000 END) / 3.0) - floor((CASE WHEN i < 33000 THEN i ELSE i - 33000 END) / 60.0)
         ELSE (CASE WHEN i < 20000 THEN i ELSE i - 20000 END) * 0.0125
       END,
       CASE WHEN i % 997 = 0 THEN 2150891520 ELSE 0 END, i
  FROM generate_series(0, 54000) i, (VALUES (2), (3), (4)) s(id);
`;

const WINDOWS = [
  ['2024-05-06T00:00:00Z', '2024-05-07T00:00:00Z'],
  ['2024-05-06T06:00:30.25Z', '2024-05-06T20:59:10Z'],
] as const;

type Slice = Record<string, number | string>;

let db: TestDatabase;

beforeAll(async () => {
  db = await scenarioDatabase(inject('databaseUrl'), { scenario: false });
  await runSql(db.url, DAY);
});

afterAll(async () => {
  await db?.drop();
});

async function withClient<T>(fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: db.url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

const SLICES = `SELECT shift_id, order_id, planned_s, excluded_s, run_s, produced, good, excluded_produced, counter_resets::float8 AS counter_resets, energy_kwh, ideal_s
                  FROM kpi.oee_slices($1, $2) ORDER BY shift_id, order_id NULLS FIRST`;

/** oee_slices of every window as the database answers now. */
const slices = (c: Client) => Promise.all(WINDOWS.map(async ([from, to]) => (await c.query<Slice>(SLICES, [from, to])).rows));

/** oee_slices computed from the raw samples alone: the rollup emptied inside a transaction that is rolled back. */
async function rawSlices(): Promise<Slice[][]> {
  return withClient(async (c) => {
    await c.query('BEGIN');
    try {
      await c.query('DELETE FROM counter_increments_1m');
      return await slices(c);
    } finally {
      await c.query('ROLLBACK');
    }
  });
}

function expectSame(actual: Slice[][], expected: Slice[][]): void {
  expect(actual.map((w) => w.map((r) => [r['shift_id'], r['order_id']]))).toEqual(expected.map((w) => w.map((r) => [r['shift_id'], r['order_id']])));
  actual.forEach((w, i) =>
    w.forEach((row, j) => {
      for (const [k, v] of Object.entries(expected[i]![j]!)) {
        if (typeof v === 'number') expect(row[k], `${k} of ${String(row['shift_id'])}/${String(row['order_id'])} in window ${i}`).toBeCloseTo(v, 6);
        else expect(row[k]).toBe(v);
      }
    }),
  );
}

describe('kpi.oee_slices with the counter rollup', () => {
  let raw: Slice[][];

  it('gives the raw numbers with the rollup empty, and the same numbers once it is filled', async () => {
    raw = await rawSlices();
    // Enough happens for the comparison to mean something: production in every slice, resets, excluded increments.
    const all = raw[0]!;
    expect(all.length).toBeGreaterThanOrEqual(3);
    expect(all.filter((r) => r['order_id'] !== null).every((r) => (r['produced'] as number) > 1000)).toBe(true);
    expect(all.reduce((n, r) => n + (r['counter_resets'] as number), 0)).toBe(1);
    expect(all.reduce((n, r) => n + (r['excluded_produced'] as number), 0)).toBeGreaterThan(0);

    const written = await withClient(async (c) => (await c.query<{ n: string }>(`SELECT kpi.refresh_counter_increments('2024-05-06T05:00Z', '2024-05-06T22:00Z') AS n`)).rows[0]!.n);
    // 3 counters x 901 minutes with samples, less the first minute of each (its first sample has nothing before it).
    expect(Number(written)).toBeGreaterThan(2600);
    expectSame(await withClient(slices), raw);
  });

  it('reads the rollup where it can: a changed minute changes the result by exactly that much, and a refresh repairs it', async () => {
    const bumped = await withClient(async (c) => {
      await c.query(`UPDATE counter_increments_1m SET increment = increment + 1000 WHERE series_id = 2 AND bucket = '2024-05-06T07:00Z'`);
      return slices(c);
    });
    const early = (rows: Slice[]) => rows.find((r) => r['shift_id'] === 'early' && r['order_id'] === 'PO-A')!;
    expect((early(bumped[0]!)['produced'] as number) - (early(raw[0]!)['produced'] as number)).toBe(1000);
    await withClient((c) => c.query(`SELECT kpi.refresh_counter_increments('2024-05-06T07:00Z', '2024-05-06T07:00Z', ARRAY[2])`));
    expectSame(await withClient(slices), raw);
  });

  it('does not trust a minute while the invalidation log lists what it covers: late data is answered from raw until recomputed', async () => {
    // As the sink writes: the sample and the log entry (series, first minute, last minute) in one transaction, no refresh.
    // Above both neighbours: its own minute (13:30) gains an increment and the next minute starts with a reset.
    await runSql(
      db.url,
      `BEGIN;
       INSERT INTO telemetry (time, series_id, value, status, seq)
       SELECT '2024-05-06T13:30:59.9999Z', 2, value + 11, 0, 900001 FROM telemetry WHERE series_id = 2 AND time < '2024-05-06T13:30:59.9999Z' ORDER BY time DESC LIMIT 1;
       INSERT INTO weir_rollup_invalidations (ranges) VALUES (ARRAY[2, extract(epoch FROM timestamptz '2024-05-06T13:30Z')::bigint / 60, extract(epoch FROM timestamptz '2024-05-06T13:30Z')::bigint / 60]);
       COMMIT;`,
    );
    const truth = await rawSlices();
    expect(truth[0]).not.toEqual(raw[0]);
    expectSame(await withClient(slices), truth);
    // The maintainer's pass: recompute the logged minute (and the next one with data), clear the log.
    await runSql(db.url, `SELECT kpi.refresh_counter_increments('2024-05-06T13:30Z', '2024-05-06T13:30Z', ARRAY[2]); DELETE FROM weir_rollup_invalidations;`);
    expectSame(await withClient(slices), truth);
    raw = truth;
  });

  it('after late data, refreshing the minutes written (and so the next minute with data) gives the raw numbers again', async () => {
    // A late sample above both neighbours: its own minute gains an increment, the next minute starts with a reset.
    await runSql(
      db.url,
      `INSERT INTO telemetry (time, series_id, value, status, seq)
       SELECT '2024-05-06T08:00:59.9999Z', 2, value + 7, 0, 900000 FROM telemetry WHERE series_id = 2 AND time < '2024-05-06T08:00:59.9999Z' ORDER BY time DESC LIMIT 1`,
    );
    const after = await rawSlices();
    expect(after[0]).not.toEqual(raw[0]);
    await withClient((c) => c.query(`SELECT kpi.refresh_counter_increments('2024-05-06T08:00:59.9999Z', '2024-05-06T08:00:59.9999Z', ARRAY[2])`));
    expectSame(await withClient(slices), after);
    const resets = await withClient(async (c) => (await c.query<{ resets: string }>(`SELECT resets FROM counter_increments_1m WHERE series_id = 2 AND bucket = '2024-05-06T08:01Z'`)).rows[0]!.resets);
    expect(Number(resets)).toBe(1);
  });
});
