import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { opsEnv, ROOT, SERVICE_FOLDERS, SERVICES } from './services';

// Static checks of the deployment files against deploy/services.json: every
// service is one entry there, and the Dockerfiles, the compose file and the
// chart's values must follow it. Rendering and building are in *.int.spec.ts.

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string; network?: string; args?: Record<string, string> };
  command?: string[];
  environment?: Record<string, string | number>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  volumes?: string[];
  restart?: string;
}
const compose = parse(readFileSync(join(ROOT, 'deploy/compose.yaml'), 'utf8'), { merge: true }) as { services: Record<string, ComposeService>; volumes: Record<string, unknown> };

interface ValuesService {
  enabled: boolean;
  side: string;
  ops: string;
  kafka: boolean;
  database: boolean;
  autoscaling?: { enabled: boolean; minReplicas?: number; maxReplicas?: number };
  replicas?: number;
  ports?: { name: string; port: number; protocol: string }[];
}
const values = parse(readFileSync(join(ROOT, 'helm/weir/values.yaml'), 'utf8')) as { services: Record<string, ValuesService> };

describe('deploy/services.json', () => {
  it('lists every folder under services/ exactly once', () => {
    expect(SERVICES.map((s) => s.name).sort()).toEqual(SERVICE_FOLDERS);
    expect(new Set(SERVICES.map((s) => s.name)).size).toBe(SERVICES.length);
  });

  it('marks the two OT-side connectors as ot and the three consumers as consumers', () => {
    expect(SERVICES.filter((s) => s.side === 'ot').map((s) => s.name).sort()).toEqual(['historian-connector', 'opcua-connector']);
    expect(SERVICES.filter((s) => s.consumer).map((s) => s.name).sort()).toEqual(['correlator', 'enricher', 'timescale-sink']);
  });
});

describe('service Dockerfiles', () => {
  it('are exactly what deploy/images/service/Dockerfile.template makes (sync-dockerfiles.mjs --check)', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'deploy/images/service/sync-dockerfiles.mjs'), '--check'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it.each(SERVICES.map((s) => [s.name, s] as const))('%s: a base image argument, a non-root user, its own entry point and an ops host reachable in a container', (name, s) => {
    const text = readFileSync(join(ROOT, 'services', name, 'Dockerfile'), 'utf8');
    expect(text).toMatch(/^ARG NODE_IMAGE=node:20-bookworm-slim$/m);
    expect(text).toMatch(/^USER 1000:1000$/m);
    expect(text).toContain(`CMD ["node", "services/${name}/dist/main.js"]`);
    expect(text).toContain(`RUN node /tmp/stage-service.mjs ${name} /out/app`);
    expect(text).toContain(`${opsEnv(s, 'OPS_HOST')}=0.0.0.0`);
    // package manifests are copied and installed before any source, so npm ci stays cached
    expect(text.indexOf('npm ci')).toBeGreaterThan(0);
    expect(text.indexOf('npm ci')).toBeLessThan(text.indexOf('COPY libs/ libs/'));
    for (const p of s.ports) expect(text).toMatch(new RegExp(`^EXPOSE 9464.* ${p.port}/${p.protocol.toLowerCase()}`, 'm'));
  });
});

describe('deploy/compose.yaml', () => {
  it('runs the official Kafka and TimescaleDB images, Grafana with our provisioning, and the migration once', () => {
    expect(compose.services['kafka']?.image).toBe('apache/kafka:3.9.1');
    expect(compose.services['timescaledb']?.image).toBe('timescale/timescaledb:latest-pg17');
    const grafana = compose.services['grafana'];
    expect(grafana?.image).toMatch(/^grafana\/grafana(:|$)/);
    expect(grafana?.volumes).toEqual(expect.arrayContaining([expect.stringMatching(/^\.\/grafana\/provisioning:/), expect.stringMatching(/^\.\/grafana\/dashboards:/)]));
    const migrate = compose.services['migrate'];
    expect(migrate?.command).toEqual(['node', 'libs/timescale/dist/cli/migrate.js', 'up']);
    expect(migrate?.restart).toBe('no');
    expect(migrate?.environment?.['WEIR_DATABASE__URL']).toMatch(/@timescaledb:5432\/weir$/);
    expect(migrate?.depends_on?.['timescaledb']?.condition).toBe('service_healthy');
    for (const infra of ['kafka', 'timescaledb', 'grafana']) expect(compose.services[infra]?.healthcheck?.test.length, infra).toBeGreaterThan(0);
  });

  it('mounts the dashboards where the Grafana provisioning looks for them and gives the datasource every variable it reads', () => {
    const grafana = compose.services['grafana'];
    const provisioning = join(ROOT, 'deploy/grafana/provisioning');
    expect(grafana?.volumes).toContain('./grafana/provisioning:/etc/grafana/provisioning:ro');
    const providerFiles = readdirSync(join(provisioning, 'dashboards')).filter((f) => /\.ya?ml$/.test(f));
    const paths = providerFiles.flatMap((f) => (parse(readFileSync(join(provisioning, 'dashboards', f), 'utf8')) as { providers?: { options?: { path?: string } }[] }).providers ?? []).map((p) => p.options?.path);
    expect(paths.length).toBeGreaterThan(0);
    for (const path of paths) expect(grafana?.volumes).toContain(`./grafana/dashboards:${path ?? ''}:ro`);
    const datasources = readdirSync(join(provisioning, 'datasources')).map((f) => readFileSync(join(provisioning, 'datasources', f), 'utf8')).join('\n');
    const variables = [...new Set([...datasources.matchAll(/\$\{(WEIR_[A-Z0-9_]+)\}/g)].map((m) => m[1] ?? ''))];
    expect(variables.length).toBeGreaterThan(0);
    for (const v of variables) expect(Object.keys(grafana?.environment ?? {}), v).toContain(v);
  });

  it('has exactly the listed services plus kafka, timescaledb, grafana and migrate', () => {
    expect(Object.keys(compose.services).sort()).toEqual([...SERVICES.map((s) => s.name), 'grafana', 'kafka', 'migrate', 'timescaledb'].sort());
  });

  it.each(SERVICES.map((s) => [s.name, s] as const))('%s: built from its Dockerfile, ops host, Kafka/database settings, depends_on and a health check', (name, s) => {
    const c = compose.services[name];
    expect(c).toBeDefined();
    if (!c) return;
    expect(c.image).toBe(`weir/${name}:\${WEIR_TAG:-dev}`);
    expect(c.build).toMatchObject({ context: '..', dockerfile: `services/${name}/Dockerfile`, network: 'host', args: { NODE_IMAGE: '${WEIR_NODE_IMAGE:-node:20-bookworm-slim}' } });
    expect(c.environment?.[opsEnv(s, 'OPS_HOST')]).toBe('0.0.0.0');
    expect(c.healthcheck?.test.join(' ')).toContain('http://127.0.0.1:9464/health/ready');
    if (s.kafka) {
      expect(c.environment?.['WEIR_KAFKA__BROKERS']).toBe('kafka:9092');
      expect(c.environment?.['WEIR_KAFKA__CLIENT_ID']).toBe(name);
      expect(c.depends_on?.['kafka']?.condition).toBe('service_healthy');
    } else {
      expect(c.environment?.['WEIR_KAFKA__BROKERS']).toBeUndefined();
    }
    if (s.database) {
      expect(c.environment?.['WEIR_DATABASE__URL']).toMatch(/^postgres:\/\/weir:\$\{WEIR_DB_PASSWORD:-weir\}@timescaledb:5432\/weir$/);
      expect(c.depends_on?.['migrate']?.condition).toBe('service_completed_successfully');
    } else {
      expect(c.environment?.['WEIR_DATABASE__URL']).toBeUndefined();
    }
    // the settings every container of the service needs (as baked into the image)
    for (const [key, value] of Object.entries(s.env)) expect(String(c.environment?.[key]), key).toBe(value);
    if (s.state) {
      const volume = c.volumes?.find((v) => v.endsWith(':/var/lib/weir'));
      expect(volume).toBeDefined();
      expect(Object.keys(compose.volumes)).toContain(volume?.split(':')[0]);
    }
    if (s.side === 'ot') expect(c.depends_on?.['plant-simulator']?.condition).toBe('service_healthy');
  });
});

describe('helm/weir/values.yaml', () => {
  it('has one entry per listed service, agreeing with the list', () => {
    expect(Object.keys(values.services).sort()).toEqual(SERVICES.map((s) => s.name).sort());
    for (const s of SERVICES) {
      const v = values.services[s.name];
      expect({ name: s.name, side: v?.side, ops: v?.ops, kafka: v?.kafka, database: v?.database }).toEqual({ name: s.name, side: s.side, ops: s.ops, kafka: s.kafka, database: s.database });
      expect((v?.ports ?? []).map((p) => `${p.port}/${p.protocol}`), s.name).toEqual(s.ports.map((p) => `${p.port}/${p.protocol}`));
      // Partitioned consumers scale out; a singleton runs one replica.
      expect(v?.autoscaling?.enabled ?? false, s.name).toBe(s.consumer && !s.singleton);
      if (s.singleton) expect(v?.replicas, s.name).toBe(1);
      // The demo simulator is off by default in a cluster; everything else is on.
      expect(v?.enabled, s.name).toBe(s.side !== 'lab');
    }
  });
});
