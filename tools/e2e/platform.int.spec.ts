import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { STANDARD_TAGS } from '@weir/plant-simulator';
import { createTestDatabase, uniqueTopicPrefix, waitFor, type TestDatabase } from '@weir/testing';
import { demoErp } from '../platform/demo-erp';
import { DEMO_ENTERPRISE, startPlatform, type Platform } from '../platform/platform';
import { apiGet, apiGetAll, globalProtectLogon, sendSyslogTcp } from './clients';
import { expectedOee, type ExpectedOee, type ShiftRule } from './expected';
import { SimulatorHistory, type TruthSample } from './ground-truth';
import { castScenario, E2E_PLANT, E2E_USERS, TIMELINE, writeScenarioFile } from './scenario';

/*
 * The whole platform on real components (issues #7 and #9): the plant
 * simulator runs a scripted scenario; opcua-connector, Kafka, enricher,
 * timescale-sink, TimescaleDB, erp-sync, it-events, correlator and
 * analytics-api run as their own processes (tools/platform, the wiring of
 * `npm run up`). What comes out of the API and the database is compared
 * with the simulator's own history, read over OPC UA HistoryRead.
 */

interface AlertDto {
  t: string;
  findingUid: string;
  activityId: number;
  analytic: { uid: string; name: string };
  attackTechniques: string[];
  resourceUids: string[];
}
interface OeeDto {
  key: string;
  availability: number | null;
  performance: number | null;
  quality: number | null;
  oee: number | null;
  plannedBusyTimeS: number;
  excludedTimeS: number;
  runTimeS: number;
  producedQuantity: number;
  goodQuantity: number;
  excludedQuantity: number;
  counterResets: number;
}
interface SeriesDto {
  id: number;
  nodeId: string;
  assetId: string | null;
}

const sec = (t: number): string => new Date(t).toISOString();
const key = (s: { time: number; value: unknown }): string => `${sec(s.time)} ${JSON.stringify(s.value)}`;
/** Relative difference, for the 1 % KPI tolerance. */
const off = (actual: number | null, expected: number | null): number => {
  if (actual === null || expected === null) return actual === expected ? 0 : Infinity;
  return Math.abs(actual - expected) / Math.max(Math.abs(expected), 1e-12);
};
const fixed = (v: number | null): string => (v === null ? 'null' : v.toFixed(4));

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

describe('the whole platform, end to end', () => {
  it('serves the simulator values, loses no sample, computes the OEE the scenario implies and raises exactly the expected alerts', { timeout: 420_000 }, async () => {
    const testStart = Date.now();
    const progress = (line: string): void => void process.stdout.write(`[e2e +${((Date.now() - testStart) / 1000).toFixed(1)} s] ${line}\n`);
    const db: TestDatabase = await createTestDatabase(inject('databaseUrl'), 'weir_e2e');
    cleanups.push(() => db.drop());
    const stateDir = mkdtempSync(join(tmpdir(), 'weir-e2e-'));
    let passed = false;
    cleanups.push(async () => {
      if (passed) rmSync(stateDir, { recursive: true, force: true });
      else process.stdout.write(`[e2e] logs and settings of the failed run are in ${stateDir}\n`);
    });

    // ------------------------------------------------------------------ start
    const times: Record<string, number> = {};
    const scenarioFile = join(stateDir, 'scenario.json');
    // The ERP data the platform derives from the seed decides which machine is maintained; the scenario follows it.
    const cast = castScenario(demoErp({ seed: E2E_PLANT.seed, shape: { enterprise: 'Plant', sites: 1, areasPerSite: 1, linesPerArea: E2E_PLANT.linesPerArea, machinesPerLine: E2E_PLANT.machinesPerLine, extraTagsPerMachine: 0 }, enterprise: DEMO_ENTERPRISE, from: new Date() }));
    writeScenarioFile(scenarioFile, cast);
    const platform: Platform = await startPlatform({
      kafkaBrokers: inject('kafkaBrokers'),
      databaseUrl: db.url,
      stateDir,
      topicPrefix: uniqueTopicPrefix('e2e'),
      runFrom: 'dist',
      plant: { ...E2E_PLANT, opcuaPort: 0, scenarioFile, credentials: { ...E2E_USERS }, startLast: true },
      log: (line) => {
        const started = /^started (\S+) /.exec(line)?.[1];
        const ready = /^(\S+) is ready$/.exec(line)?.[1];
        if (started) times[`started ${started}`] = Date.now();
        if (ready) times[`ready ${ready}`] = Date.now();
        progress(line.replace(/ \(pid.*$/, ''));
      },
    });
    let stopped = false;
    cleanups.push(async () => {
      if (!stopped) await platform.stop(5000);
    });
    expect(castScenario(platform.erp)).toEqual(cast);
    const simStart = times['started plant-simulator']!;
    const connectorStart = times['started opcua-connector']!;
    const ready = times['ready opcua-connector']!;
    const at = (offsetS: number): number => simStart + offsetS * 1000;
    progress(`platform ready ${((ready - simStart) / 1000).toFixed(1)} s after the simulator started (budget ${TIMELINE.lead} s)`);
    // The scenario's writes are timed from the simulator's start: the connector must be watching before the first one.
    expect(ready, `the platform took ${((ready - simStart) / 1000).toFixed(1)} s to start, more than the scenario's lead of ${TIMELINE.lead} s`).toBeLessThan(at(TIMELINE.lead) - 5000);

    const history = await SimulatorHistory.connect(platform.opcuaEndpoint, join(stateDir, 'ground-truth-pki'));
    cleanups.push(() => history.close());
    const sleepUntil = async (t: number): Promise<void> => {
      while (Date.now() < t) await new Promise((r) => setTimeout(r, Math.min(1000, t - Date.now())));
    };

    // ------------------------------------------------------------------ run the scenario
    // The observed window starts on a whole second once the connector is subscribed.
    const from = Math.ceil((ready + 2000) / 1000) * 1000;
    await sleepUntil(at(TIMELINE.vpnLogon));
    const vpnAt = new Date();
    await sendSyslogTcp(platform.itEvents.syslogPort, [globalProtectLogon(vpnAt, 'engineer', '198.51.100.23', '127.0.0.1')]);
    progress(`sent the VPN logon of "engineer" (no MFA, assigned 127.0.0.1) at ${vpnAt.toISOString()}`);
    const rogue = await waitFor(
      async () => (await history.samples(`${cast.target}.SpeedSetpoint`, from, Date.now() + 1)).find((s) => s.value === cast.rogueSpeed),
      { timeoutMs: at(TIMELINE.rogueWrite) + 60_000 - Date.now(), intervalMs: 2000, what: `the rogue write of ${cast.target}.SpeedSetpoint = ${cast.rogueSpeed} in the simulator's history` },
    );
    progress(`the rogue write took effect at ${sec(rogue.time)}`);
    const to = Math.ceil(Math.max(at(TIMELINE.end), rogue.time + 10_000) / 1000) * 1000;
    await sleepUntil(to + 1000);
    progress(`observed window ${sec(from)} .. ${sec(to)} (${(to - from) / 1000} s)`);

    // ------------------------------------------------------------------ ground truth
    const machines = platform.erp.assets.filter((a) => a.level === 'machine').map((a) => String(a.id));
    const tags = machines.flatMap((m) => STANDARD_TAGS.map((t) => `${m}.${t.name}`));
    const truth = new Map<string, TruthSample[]>();
    for (const tag of tags) truth.set(tag, await history.samples(tag, from, to));
    progress(`ground truth: ${[...truth.values()].reduce((n, s) => n + s.length, 0)} samples of ${tags.length} tags in the window`);
    // The scenario happened as scripted: the operator's write, the jam, the rogue write.
    const operatorWrite = truth.get(`${cast.maintained}.SpeedSetpoint`)!;
    expect(operatorWrite, 'the operator setpoint change is in the simulator history').toHaveLength(1);
    expect(truth.get(`${cast.jammed}.DownReason`)!.map((s) => s.value)).toEqual(expect.arrayContaining([303, 302]));

    // Each check below is soft: a failure is reported and the next checks still run, down to the stop.
    // ------------------------------------------------------------------ no sample lost (TimescaleDB, directly)
    const pg = new Client({ connectionString: db.url });
    await pg.connect();
    cleanups.push(() => pg.end());
    const seriesOf = async (): Promise<Map<string, number>> => {
      const rows = (await pg.query<{ id: number; node_id: string }>('SELECT id, node_id FROM series WHERE source_id = $1', [platform.sourceId])).rows;
      return new Map(rows.map((r) => [/;s=(.+)$/.exec(r.node_id)?.[1] ?? r.node_id, r.id]));
    };
    const stored = async (seriesId: number): Promise<string[]> =>
      (
        await pg.query<{ t: Date; v: unknown }>(
          `SELECT time AS t, to_jsonb(value) AS v FROM telemetry WHERE series_id = $1 AND time >= $2 AND time < $3
           UNION ALL SELECT time, to_jsonb(coalesce(value_text, value_bool::text, value_json::text)) FROM telemetry_other WHERE series_id = $1 AND time >= $2 AND time < $3`,
          [seriesId, new Date(from), new Date(to)],
        )
      ).rows
        .map((r) => key({ time: r.t.getTime(), value: r.v }))
        .sort();
    const lossReport = async (): Promise<Record<string, { missing: string[]; extra: string[] }>> => {
      const ids = await seriesOf();
      const report: Record<string, { missing: string[]; extra: string[] }> = {};
      for (const tag of tags) {
        const want = truth.get(tag)!.map(key).sort();
        const id = ids.get(tag);
        const got = id === undefined ? [] : await stored(id);
        const left = [...got];
        const missing = want.filter((w) => {
          const i = left.indexOf(w);
          if (i < 0) return true;
          left.splice(i, 1);
          return false;
        });
        if (missing.length > 0 || left.length > 0) report[tag] = { missing: missing.slice(0, 5), extra: left.slice(0, 5) };
      }
      return report;
    };
    // The pipeline is asynchronous: wait until the window's samples are in, then compare (duplicates count as extra).
    await waitFor(async () => (Object.keys(await lossReport()).length === 0 ? true : undefined), { timeoutMs: 60_000, intervalMs: 2000, what: 'every sample of the window in TimescaleDB' }).catch(() => undefined);
    expect.soft(await lossReport(), 'per tag: samples of the simulator missing from TimescaleDB, and samples stored that it did not produce (or twice)').toEqual({});
    const gaps = (await pg.query('SELECT source_id, node_id, from_time, to_time, detected_by, reason FROM data_gaps WHERE from_time < $2 AND to_time > $1', [new Date(from), new Date(to)])).rows;
    expect.soft(gaps, 'data gaps recorded in the window').toEqual([]);
    // The two writes reached TimescaleDB as OPC UA audit events, at the time the simulator applied them, with who and from where.
    const writes = (
      await pg.query<{ time: Date; node_id: string; actor_user: string | null; actor_client_address: string | null }>(
        `SELECT time, node_id, actor_user, actor_client_address FROM ot_events WHERE kind = 'audit' AND type ILIKE '%write%' AND time >= $1 AND time < $2 ORDER BY time`,
        [new Date(from), new Date(to)],
      )
    ).rows.map((r) => `${sec(r.time.getTime())} ${/;s=(.+)$/.exec(r.node_id)?.[1] ?? r.node_id} ${r.actor_user} ${r.actor_client_address}`);
    expect.soft(writes, 'audit write events in ot_events').toEqual([
      `${sec(operatorWrite[0]!.time)} ${cast.maintained}.SpeedSetpoint operator 127.0.0.1`,
      `${sec(rogue.time)} ${cast.target}.SpeedSetpoint engineer 127.0.0.1`,
    ]);
    progress('checked: every tag in TimescaleDB against the simulator history, and the audit events of the two writes');

    // ------------------------------------------------------------------ values through the API
    const api = platform.api;
    const series = await apiGetAll<{ series: SeriesDto[]; next: string | null }, SeriesDto>(api, '/v1/series', { from: sec(from), to: sec(to), limit: 1000 }, (p) => p.series);
    const seriesByTag = new Map(series.filter((s) => s.nodeId.includes(';s=')).map((s) => [/;s=(.+)$/.exec(s.nodeId)![1]!, s]));
    expect([...seriesByTag.keys()].sort()).toEqual([...tags].sort());
    for (const tag of tags) expect(seriesByTag.get(tag)!.assetId, `asset of ${tag}`).toBe(tag.slice(0, tag.lastIndexOf('.')));
    const raw = await apiGetAll<{ samples: Array<{ seriesId: number; t: string; value: unknown }>; next: string | null }, { seriesId: number; t: string; value: unknown }>(
      api,
      '/v1/timeseries/raw',
      { series: tags.map((t) => seriesByTag.get(t)!.id).join(','), from: sec(from), to: sec(to), quality: 'any', limit: 10_000 },
      (p) => p.samples,
    );
    const rawMismatch: Record<string, { api: number; truth: number; firstDiff?: [string | undefined, string | undefined] }> = {};
    for (const tag of tags) {
      const id = seriesByTag.get(tag)!.id;
      const got = raw.filter((s) => s.seriesId === id).map((s) => key({ time: Date.parse(s.t), value: s.value }));
      const want = truth.get(tag)!.map(key);
      if (JSON.stringify(got) !== JSON.stringify(want)) {
        const i = want.findIndex((w, j) => got[j] !== w);
        rawMismatch[tag] = { api: got.length, truth: want.length, firstDiff: [got[i], want[i]] };
      }
    }
    expect.soft(rawMismatch, 'raw samples from /v1/timeseries/raw against the simulator history, per tag').toEqual({});
    // Latest values: each is a value the simulator produced at that time, and none is older than the completed window.
    const latestProblems: string[] = [];
    for (const machine of machines) {
      const latest = await apiGet<{ assets: Array<{ assetId: string; state: { state: string; reasonCode: number | null; since: string } | null; values: Array<{ seriesId: number; t: string | null; value: unknown }> }> }>(api, '/v1/latest', { asset: machine });
      const asset = latest.assets.find((a) => a.assetId === machine);
      if (!asset) {
        latestProblems.push(`${machine}: not in /v1/latest`);
        continue;
      }
      for (const tag of STANDARD_TAGS.map((t) => `${machine}.${t.name}`)) {
        const v = asset.values.find((x) => x.seriesId === seriesByTag.get(tag)!.id);
        if (!v || v.t === null) {
          latestProblems.push(`${tag}: no latest value`);
          continue;
        }
        const t = Date.parse(v.t);
        const [atT] = await history.samples(tag, t, t + 1);
        if (!atT || atT.value !== v.value) latestProblems.push(`${tag}: API ${v.t} ${JSON.stringify(v.value)}, simulator at that time ${atT ? JSON.stringify(atT.value) : 'no sample'}`);
        const lastInWindow = await history.lastBefore(tag, to);
        if (lastInWindow && t < lastInWindow.time) latestProblems.push(`${tag}: API latest ${v.t} is older than the simulator's ${sec(lastInWindow.time)}`);
      }
      // The machine state: the simulator entered it at `since`, and it is not older than the window's last change.
      if (asset.state === null) latestProblems.push(`${machine}: no machine state`);
      else {
        const since = Date.parse(asset.state.since);
        const [entered] = await history.samples(`${machine}.State`, since, since + 1);
        const lastChange = await history.lastBefore(`${machine}.State`, to);
        if (!entered || entered.value !== asset.state.state) latestProblems.push(`${machine}: state ${asset.state.state} since ${asset.state.since}, simulator ${entered ? String(entered.value) : 'no change'} then`);
        if (lastChange && since < lastChange.time) latestProblems.push(`${machine}: state since ${asset.state.since} is older than the simulator's change at ${sec(lastChange.time)}`);
      }
    }
    expect.soft(latestProblems, '/v1/latest against the simulator').toEqual([]);
    progress(`checked: ${raw.length} raw samples and the latest values of ${machines.length} machines against the simulator`);

    // ------------------------------------------------------------------ KPIs
    const erpSync = JSON.parse(readFileSync(join(stateDir, 'config', 'erp-sync.json'), 'utf8')) as { shifts: { sites: Array<{ shifts: ShiftRule[] }> } };
    const rules = erpSync.shifts.sites[0]!.shifts;
    const expected = new Map<string, ExpectedOee>();
    for (const machine of machines) {
      const order = platform.erp.productionOrders.find((o) => o.assetId === machine)!;
      expected.set(machine, await expectedOee(history, machine, Number(order['idealCycleTimeS']), rules, from, to));
    }
    const oee = await apiGet<{ rows: OeeDto[] }>(api, '/v1/kpi/oee', { from: sec(from), to: sec(to), by: 'machine' });
    const kpiProblems: string[] = [];
    for (const machine of machines) {
      const e = expected.get(machine)!;
      const r = oee.rows.find((x) => x.key === machine);
      if (!r) {
        kpiProblems.push(`${machine}: no OEE row`);
        continue;
      }
      progress(
        `${machine}: API A ${fixed(r.availability)} P ${fixed(r.performance)} Q ${fixed(r.quality)} OEE ${fixed(r.oee)} (busy ${r.plannedBusyTimeS} s, run ${r.runTimeS} s, ${r.producedQuantity}/${r.goodQuantity}) — ` +
          `simulator A ${fixed(e.availability)} P ${fixed(e.performance)} Q ${fixed(e.quality)} OEE ${fixed(e.oee)} (busy ${e.plannedBusyS} s, run ${e.runS} s, ${e.produced}/${e.good})`,
      );
      for (const [name, got, want] of [
        ['availability', r.availability, e.availability],
        ['performance', r.performance, e.performance],
        ['quality', r.quality, e.quality],
        ['oee', r.oee, e.oee],
        ['planned busy time', r.plannedBusyTimeS, e.plannedBusyS],
        ['run time', r.runTimeS, e.runS],
        ['produced', r.producedQuantity, e.produced],
        ['good', r.goodQuantity, e.good],
      ] as const) {
        if (off(got, want) > 0.01) kpiProblems.push(`${machine} ${name}: API ${got}, simulator ${want} (${(off(got, want) * 100).toFixed(2)} % off)`);
      }
      if (r.excludedTimeS !== 0 || r.excludedQuantity !== 0 || r.counterResets !== 0) kpiProblems.push(`${machine}: excluded ${r.excludedTimeS} s / ${r.excludedQuantity} parts, ${r.counterResets} counter resets`);
    }
    // The jam and the electrical failure after it show in the downtime Pareto of their machine, each with its reason and length.
    const jam = expected.get(cast.jammed)!;
    expect(jam.stops.get(303)?.seconds ?? 0, 'the scripted jam in the simulator history').toBeGreaterThanOrEqual(TIMELINE.downtimeDuration);
    expect(jam.stops.get(302)?.seconds ?? 0, 'the scripted electrical failure in the simulator history').toBeGreaterThanOrEqual(TIMELINE.secondFaultDuration);
    const pareto = await apiGet<{ rows: Array<{ reasonCode: number | null; state: string; seconds: number }> }>(api, '/v1/kpi/downtime', { from: sec(from), to: sec(to), by: 'reason', state: 'all', asset: cast.jammed });
    const apiStops = new Map<number | null, number>();
    for (const r of pareto.rows) apiStops.set(r.reasonCode, (apiStops.get(r.reasonCode) ?? 0) + r.seconds);
    for (const [reason, s] of jam.stops) if (off(apiStops.get(reason) ?? 0, s.seconds) > 0.01) kpiProblems.push(`${cast.jammed} downtime reason ${reason}: API ${apiStops.get(reason) ?? 0} s, simulator ${s.seconds} s`);
    for (const [reason, s] of apiStops) if (reason === null || !jam.stops.has(reason)) kpiProblems.push(`${cast.jammed} downtime reason ${reason}: API ${s} s, the simulator had none`);
    expect.soft(kpiProblems, 'KPIs from /v1/kpi/oee and /v1/kpi/downtime against the simulator (1 % tolerance)').toEqual([]);

    // ------------------------------------------------------------------ alerts
    // Expected: the rogue write (no work order on the target) and the VPN logon without MFA followed by it; a
    // process value beyond the ERP's safe limits wherever the simulator produced one since the connector started
    // (its seeded process upsets); nothing for the operator's write under a work order, the jam, or the sessions.
    const limitMachines: string[] = [];
    for (const machine of machines) {
      const limits = platform.erp.assets.find((a) => a.id === machine)!['limits'] as Record<string, { low: number; high: number }>;
      for (const [tagName, limit] of [['Temperature', limits['temperature']!], ['Speed', limits['speed']!]] as const) {
        const before = await history.lastBefore(`${machine}.${tagName}`, connectorStart);
        const values = [...(before ? [before] : []), ...(await history.samples(`${machine}.${tagName}`, connectorStart, to))].map((s) => Number(s.value));
        if (values.some((v) => v < limit.low || v > limit.high)) limitMachines.push(machine);
      }
    }
    const expectedAlerts = [
      `weir-ics-remote-access-then-ot-change T0822,T0836,T0855,T0859 ${cast.target}`,
      `weir-ics-write-without-work-order T0836 ${cast.target}`,
      ...[...new Set(limitMachines)].map((m) => `weir-ics-value-beyond-safe-limit T0831,T0836 ${m}`),
    ].sort();
    const alertWindow = { from: sec(to - 2 * 86_400_000), to: sec(to), limit: 1000 };
    const summarise = (alerts: AlertDto[]): string[] =>
      alerts
        .filter((a) => a.activityId === 1)
        .map((a) => `${a.analytic.uid.replace(/-by-(address|user)$/, '')} ${[...a.attackTechniques].sort().join(',')} ${[...a.resourceUids].sort().join(',')}`)
        .sort();
    const listAlerts = (): Promise<AlertDto[]> => apiGetAll<{ alerts: AlertDto[]; next: string | null }, AlertDto>(api, '/v1/alerts', alertWindow, (p) => p.alerts);
    await waitFor(async () => (JSON.stringify(summarise(await listAlerts())) === JSON.stringify(expectedAlerts) ? true : undefined), { timeoutMs: 60_000, intervalMs: 2000, what: 'the expected alerts' }).catch(() => undefined);
    // Settle: nothing further arrives for what happened in the window.
    await new Promise((r) => setTimeout(r, 5000));
    const alerts = await listAlerts();
    expect.soft(summarise(alerts), 'alerts (creates) from /v1/alerts').toEqual(expectedAlerts);
    const creates = new Set(alerts.filter((a) => a.activityId === 1).map((a) => a.findingUid));
    for (const u of alerts.filter((a) => a.activityId !== 1)) expect(creates.has(u.findingUid), `update ${u.findingUid} belongs to a created incident`).toBe(true);
    // The incident is about the rogue write: its time is the write's (the correlator stamps event time, not the wall clock).
    const remote = alerts.find((a) => a.activityId === 1 && a.analytic.uid.startsWith('weir-ics-remote-access-then-ot-change'));
    expect.soft(remote && Date.parse(remote.t), 'remote-access incident time = the rogue write').toBe(rogue.time);
    progress(`alerts checked; expected ${expectedAlerts.join('; ')}`);

    // ------------------------------------------------------------------ stop (Ctrl-C semantics)
    await history.close();
    await platform.stop();
    stopped = true;
    const exits = Object.fromEntries(await Promise.all(platform.processes.map(async (p) => [p.name, await p.exited] as const)));
    expect(exits).toEqual(Object.fromEntries(platform.processes.map((p) => [p.name, '0'])));
    for (const p of platform.processes) expect(p.child.exitCode, `${p.name} exited`).not.toBeNull();
    progress(`stopped: ${JSON.stringify(exits)}`);
    passed = true;
  });
});
