// Informational figures for the README: startup time and memory at 1k/10k/50k
// tags, value changes per second at 10k tags, and a >1M-value HistoryRead.
// Not a test and not a benchmark (no baseline); never asserts anything.
//   npx tsx services/plant-simulator/test/measure.ts            all sizes, one child process each
//   npx tsx services/plant-simulator/test/measure.ts one 10000  one size
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { AttributeIds, ClientMonitoredItem, ClientSubscription, TimestampsToReturn } from 'node-opcua';
import { freePort, tempDir } from '@weir/testing';
import { connectClient, startPlantSimulator } from '../src/index';
import { readHistory } from './helpers';

const mb = (n: number): number => Math.round(n / 1_048_576);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function one(tags: number, tickMs: number, subscribe: boolean, history: boolean): Promise<void> {
  const machines = tags / 50;
  const linesPerArea = Math.max(1, Math.min(10, machines / 10));
  const shape = { sites: 1, areasPerSite: Math.max(1, machines / (10 * linesPerArea)), linesPerArea, machinesPerLine: 10, extraTagsPerMachine: 38 };
  if (machines < 10) Object.assign(shape, { areasPerSite: 1, linesPerArea: 1, machinesPerLine: machines });
  const dir = tempDir('measure');
  const gc = (globalThis as { gc?: () => void }).gc;
  const rss0 = process.memoryUsage().rss;
  const t0 = Date.now();
  const sim = await startPlantSimulator({ port: await freePort(), stateDir: dir, plant: shape, tickMs, security: { autoAcceptUnknownCertificates: true, users: [{ username: 'u', password: 'p' }] } });
  const startupMs = Date.now() - t0;
  await sleep(3000);
  gc?.();
  const mem = process.memoryUsage();
  const out: Record<string, unknown> = { tags: sim.model.tags.length, tickMs, startupMs, rssMB: mb(mem.rss), rssGrowthMB: mb(mem.rss - rss0), heapMB: mb(mem.heapUsed) };

  let received = 0;
  let conn: Awaited<ReturnType<typeof connectClient>> | undefined;
  if (subscribe) {
    conn = await connectClient({ endpointUrl: sim.endpointUrl, identity: { applicationUri: 'urn:weir:measure', applicationName: 'measure', pkiDir: join(dir, 'client') } });
    const sub = ClientSubscription.create(conn.session, { requestedPublishingInterval: 250, requestedLifetimeCount: 600, requestedMaxKeepAliveCount: 20, maxNotificationsPerPublish: 0, publishingEnabled: true, priority: 1 });
    const ids = sim.model.tags.map((t) => sim.nodeId(t.id));
    for (let i = 0; i < ids.length; i += 1000) {
      const group = await sub.monitorItems(ids.slice(i, i + 1000).map((nodeId) => ({ nodeId, attributeId: AttributeIds.Value })), { samplingInterval: 0, queueSize: 100, discardOldest: true }, TimestampsToReturn.Both);
      group.on('changed', () => received++);
    }
    void ClientMonitoredItem;
    await sleep(2000);
  }
  const c0 = sim.stats().valueChanges;
  const r0 = received;
  const cpu0 = process.cpuUsage();
  const w0 = Date.now();
  await sleep(10_000);
  const secs = (Date.now() - w0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  out['valueChangesPerSec'] = Math.round((sim.stats().valueChanges - c0) / secs);
  if (subscribe) out['notificationsPerSec'] = Math.round((received - r0) / secs);
  out['cpuCores'] = Math.round(((cpu.user + cpu.system) / 1e6 / secs) * 100) / 100;
  const lag = /^weir_plant_simulator_tick_lag_seconds\S* (\S+)$/m.exec(await sim.metrics.metrics());
  out['lastTickLagMs'] = lag ? Math.round(Number(lag[1]) * 1000) : undefined;

  if (history) {
    conn ??= await connectClient({ endpointUrl: sim.endpointUrl, identity: { applicationUri: 'urn:weir:measure', applicationName: 'measure', pkiDir: join(dir, 'client') } });
    const hours = Number(process.env['MEASURE_HISTORY_HOURS'] ?? 6);
    const to = Date.now() - 5000;
    const from = to - hours * 3_600_000;
    // Dense tags (a change nearly every tick): 50 x 6 h x 3600 ~ 1.08 M values. Counted, not kept.
    const ids = sim.model.tags.filter((t) => t.periodMs === tickMs && (t.kind === 'temperature' || t.kind === 'pressure' || t.kind === 'extra')).slice(0, 50);
    let values = 0;
    let calls = 0;
    gc?.();
    const rssBefore = process.memoryUsage().rss;
    let maxRss = rssBefore;
    const timer = setInterval(() => (maxRss = Math.max(maxRss, process.memoryUsage().rss)), 50);
    const h0 = Date.now();
    for (const t of ids) {
      const r = await readHistory(conn.session, sim.nodeId(t.id), from, to, 10_000, true);
      values += r.count;
      calls += r.calls;
    }
    clearInterval(timer);
    gc?.();
    out['history'] = { tags: ids.length, hours, values, calls, seconds: (Date.now() - h0) / 1000, rssBeforeMB: mb(rssBefore), maxRssMB: mb(maxRss), heapAfterMB: mb(process.memoryUsage().heapUsed) };
  }
  await conn?.close();
  await sim.stop();
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

async function main(): Promise<void> {
  const [mode, n, tick, flags] = process.argv.slice(2);
  if (mode === 'one') return one(Number(n), Number(tick ?? 1000), (flags ?? '').includes('s'), (flags ?? '').includes('h'));
  const runs: Array<[number, number, string]> = [[1000, 1000, ''], [10_000, 1000, ''], [50_000, 1000, ''], [10_000, 1000, 's'], [10_000, 100, ''], [10_000, 100, 's'], [10_000, 1000, 'h']];
  for (const [tags, tickMs, f] of runs) {
    const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', __filename, 'one', String(tags), String(tickMs), f], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    process.stdout.write(out.split('\n').filter((l) => l.startsWith('{')).join('\n') + '\n');
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
