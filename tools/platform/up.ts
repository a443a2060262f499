/**
 * `npm run up`: the whole platform on this machine. Expects the dev stack
 * (Kafka + TimescaleDB) to be up and the services built — scripts/up.sh does
 * both — then starts the plant simulator and every service, prints where to
 * look, and stops everything cleanly on Ctrl-C (SIGINT) or SIGTERM.
 *
 * Environment: WEIR_UP_KAFKA_BROKERS, WEIR_UP_DATABASE_URL (set by scripts/up.sh),
 * WEIR_UP_STATE_DIR (default .weir/platform), WEIR_UP_OPCUA_PORT (4840),
 * WEIR_UP_OPS_PORT_BASE (9470: the services' health/metrics ports count up from it),
 * WEIR_UP_API_PORT (8080), WEIR_UP_SYSLOG_PORT (5514, TCP and UDP), WEIR_UP_HTTP_PORT (8088).
 */
import { resolve } from 'node:path';
import { Client } from 'pg';
import { startPlatform, type Platform } from './platform';

function setting(name: string, fallback?: string): string {
  const v = process.env[name] ?? fallback;
  if (v === undefined || v === '') {
    process.stderr.write(`weir up: ${name} is not set (scripts/up.sh sets it from the dev stack)\n`);
    process.exit(2);
  }
  return v;
}

async function summary(databaseUrl: string): Promise<string[]> {
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const q = async (sql: string): Promise<string> => String(((await db.query(sql)).rows[0] as Record<string, unknown> | undefined)?.['n'] ?? '?');
    return [
      `  series            ${await q('SELECT count(*) AS n FROM series')}`,
      `  samples stored    ${await q('SELECT (SELECT count(*) FROM telemetry) + (SELECT count(*) FROM telemetry_other) AS n')}`,
      `  OT events         ${await q('SELECT count(*) AS n FROM ot_events')}`,
      `  state intervals   ${await q('SELECT count(*) AS n FROM machine_state_intervals')}`,
      `  assets            ${await q('SELECT count(DISTINCT id) AS n FROM assets')}`,
      `  security events   ${await q('SELECT count(*) AS n FROM security_events')}`,
      `  alerts            ${await q('SELECT count(*) AS n FROM alerts')}`,
    ];
  } finally {
    await db.end();
  }
}

async function main(): Promise<void> {
  const kafkaBrokers = setting('WEIR_UP_KAFKA_BROKERS').split(',');
  const databaseUrl = setting('WEIR_UP_DATABASE_URL');
  const stateDir = resolve(setting('WEIR_UP_STATE_DIR', '.weir/platform'));
  const running: { platform?: Platform } = {};
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`\n${signal}: stopping the platform (producers first)...\n`);
    void (running.platform?.stop() ?? Promise.resolve()).then(() => {
      process.stdout.write('all processes stopped; the dev stack keeps running (npm run stack:down stops it)\n');
      process.exit(0);
    });
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));

  const platform = await startPlatform({
    kafkaBrokers,
    databaseUrl,
    stateDir,
    runFrom: 'dist',
    plant: { opcuaPort: Number(setting('WEIR_UP_OPCUA_PORT', '4840')) },
    opsPortBase: Number(setting('WEIR_UP_OPS_PORT_BASE', '9470')),
    ports: { api: Number(setting('WEIR_UP_API_PORT', '8080')), syslog: Number(setting('WEIR_UP_SYSLOG_PORT', '5514')), http: Number(setting('WEIR_UP_HTTP_PORT', '8088')) },
    log: (line) => process.stdout.write(`weir up: ${line}\n`),
  });
  running.platform = platform;
  if (stopping) return;
  const lines = [
    '',
    'Weir is up.',
    `  OPC UA plant      ${platform.opcuaEndpoint}  (simulated: ${platform.erp.assets.filter((a) => a.level === 'machine').length} machines)`,
    `  Analytics API     ${platform.api.url}/docs  (OpenAPI at /openapi.json; header  X-API-Key: ${platform.api.key}  — admin, every site; made for this run)`,
    `  KPIs              curl -H 'X-API-Key: ${platform.api.key}' '${platform.api.url}/v1/kpi/oee?by=machine&from=<ISO time>&to=<ISO time>'`,
    `  IT events in      syslog tcp/udp 127.0.0.1:${platform.itEvents.syslogPort}  (logger -T -n 127.0.0.1 -P ${platform.itEvents.syslogPort} ...), HTTP JSON ${platform.itEvents.httpUrl}`,
    `  Historian files   drop CSV/TSV exports (tall: tag,time,value,quality) into ${platform.historianDrop}`,
    `  Kafka             ${kafkaBrokers.join(',')}`,
    `  TimescaleDB       ${databaseUrl.replace(/:[^:@/]+@/, ':***@')}`,
    ...platform.processes.map((p) => `  ${p.name.padEnd(17)} http://127.0.0.1:${p.opsPort}/metrics  /health/ready   log ${p.logFile}`),
    '  Grafana           provisioning and dashboards in deploy/grafana (point its PostgreSQL datasource at TimescaleDB)',
    '',
    'Ctrl-C stops every process.',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  // A short summary once data has had time to flow, then every minute.
  const report = async (): Promise<void> => {
    try {
      process.stdout.write(`\nWhat TimescaleDB holds (${new Date().toISOString()}):\n${(await summary(databaseUrl)).join('\n')}\n`);
    } catch (err) {
      process.stdout.write(`(summary unavailable: ${(err as Error).message})\n`);
    }
  };
  setTimeout(() => void report(), 20_000);
  setInterval(() => void report(), 60_000);
}

main().catch((err: unknown) => {
  process.stderr.write(`weir up: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
