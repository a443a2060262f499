import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestDatabase } from '@weir/testing';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { renderQuery, type RenderContext } from './grafana-macros';
import { queryRows, runSql, scenarioDatabase } from './helpers';

// Every query of every provisioned dashboard (panels and template variables) is expanded as Grafana
// expands it and run against the scenario database.

const GRAFANA = join(__dirname, '..', '..', '..', 'deploy', 'grafana');

interface Target {
  rawSql: string;
  format?: string;
  datasource?: { uid?: string };
}
interface Panel {
  title: string;
  targets?: Target[];
  panels?: Panel[];
  datasource?: { uid?: string };
}
interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: { name: string; type: string; query: string; datasource?: { uid?: string } }[] };
}

const datasources = (parseYaml(readFileSync(join(GRAFANA, 'provisioning', 'datasources', 'weir-timescaledb.yaml'), 'utf8')) as {
  datasources: { uid: string; jsonData: { timescaledb: boolean } }[];
}).datasources;
const dashboards = readdirSync(join(GRAFANA, 'dashboards'))
  .filter((f) => f.endsWith('.json'))
  .map((f) => JSON.parse(readFileSync(join(GRAFANA, 'dashboards', f), 'utf8')) as Dashboard);
const panelsOf = (ps: Panel[]): Panel[] => ps.flatMap((p) => [p, ...panelsOf(p.panels ?? [])]);

const ctx: RenderContext = {
  from: new Date('2024-03-04T00:00:00Z'),
  to: new Date('2024-03-05T00:00:00Z'),
  interval: '5m',
  variables: { site: 'hh', line: 'hh-l1', tz: 'UTC' },
  timescaledb: datasources[0]!.jsonData.timescaledb,
};

let db: TestDatabase;

beforeAll(async () => {
  db = await scenarioDatabase(inject('databaseUrl'));
  await runSql(db.url, `INSERT INTO telemetry_1m (bucket, series_id, count, sum, avg, min, max, first, last, bad_count, uncertain_count)
                        VALUES ('2024-03-04T06:00Z', 4, 1, 520, 520, 520, 520, 520, 520, 0, 0), ('2024-03-04T07:59Z', 4, 1, 520, 520, 520, 520, 520, 520, 0, 1)`);
});

afterAll(async () => {
  await db?.drop();
});

const run = (sql: string) => queryRows<Record<string, unknown>>(db.url, renderQuery(sql, ctx));
const panel = (uid: string, title: string) => {
  const p = panelsOf(dashboards.find((d) => d.uid === uid)!.panels).find((x) => x.title === title);
  if (!p?.targets?.[0]) throw new Error(`no panel ${title} in ${uid}`);
  return p.targets[0].rawSql;
};

describe('Grafana provisioning', () => {
  it('provisions one TimescaleDB datasource that every dashboard query uses', () => {
    expect(datasources.map((d) => d.uid)).toEqual(['weir-timescaledb']);
    expect(dashboards.map((d) => d.uid).sort()).toEqual(['weir-data-completeness', 'weir-downtime', 'weir-energy', 'weir-line-oee', 'weir-plant-overview']);
    for (const d of dashboards) for (const p of panelsOf(d.panels)) for (const t of p.targets ?? []) expect(t.datasource?.uid, `${d.title} / ${p.title}`).toBe('weir-timescaledb');
  });

  const queries = dashboards.flatMap((d) => [
    ...d.templating.list.filter((v) => v.type === 'query').map((v) => [`${d.title} / variable ${v.name}`, v.query] as const),
    ...panelsOf(d.panels).flatMap((p) => (p.targets ?? []).map((t) => [`${d.title} / ${p.title}`, t.rawSql] as const)),
  ]);

  it.each(queries)('%s runs against the database', async (_name, sql) => {
    const rendered = renderQuery(sql, ctx);
    expect(rendered).not.toMatch(/\$__|\$\{|\[\[/);
    const rows = await queryRows(db.url, rendered);
    expect(Array.isArray(rows)).toBe(true);
  });
});

describe('dashboard numbers equal the scenario', () => {
  it('line OEE', async () => {
    const [row] = await run(panel('weir-line-oee', 'Line OEE'));
    expect(row!['oee']).toBeCloseTo((31800 / 49500) * (2195 / 2250), 12);
  });

  it('downtime Pareto', async () => {
    const rows = await run(panel('weir-downtime', 'Downtime by reason (Pareto)'));
    expect(rows.map((r) => Number(r['minutes']))).toEqual([60, 60, 45]);
  });

  it('energy per good unit', async () => {
    const rows = await run(panel('weir-energy', 'Energy per good unit by order and cost centre'));
    expect(rows.find((r) => r['order_id'] === 'PO-1')!['kwh_per_good_unit']).toBeCloseTo(60 / 785, 12);
  });

  it('completeness and parts produced over time', async () => {
    const rows = await run(panel('weir-data-completeness', 'Completeness per series'));
    expect(rows.filter((r) => Number(r['missing_s']) === 3600).map((r) => r['series_id'])).toEqual([1, 2, 3, 4, 5]);
    const produced = await run(panel('weir-plant-overview', 'Parts produced'));
    // Raw counter increments: unlike the OEE quantity, the 300 parts counted across the gap are in.
    expect(produced.reduce((s, r) => s + Number(r['produced']), 0)).toBe(1400 + 850 + 300);
    expect(produced[0]!['time']).toEqual(new Date('2024-03-04T07:55:00Z'));
  });
});
