import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '@weir/config';
import type { z } from 'zod';
import { beforeAll, describe, expect, it } from 'vitest';
import { TOPIC_FLOWS, TOPICS, TOPICS_FILE, updateTopicTable } from './topics-reference';
import { CONFIG_REFERENCE_FILE, ROOT, buildConfigReference, envSegmentToKey, keyToEnvSegment, renderConfigReference, type ServiceReference, type SettingRow } from './config-reference';

let refs: ServiceReference[];

function row(service: string, path: string): SettingRow {
  const ref = refs.find((r) => r.name === service);
  const found = ref?.rows.find((r) => r.path === path);
  if (!found) throw new Error(`${service} has no row ${path}`);
  return found;
}

/** Settings each program needs before any other can be tried alone. */
const BASE_ENV: Record<string, Record<string, string>> = {
  enricher: { WEIR_KAFKA__BROKERS: 'k:9092' },
  correlator: { WEIR_KAFKA__BROKERS: 'k:9092' },
  'timescale-sink': { WEIR_KAFKA__BROKERS: 'k:9092', WEIR_DATABASE__URL: 'postgres://u:p@db:5432/weir' },
  'analytics-api': { WEIR_DATABASE__URL: 'postgres://u:p@db:5432/weir' },
  'opcua-connector': { WEIR_KAFKA__BROKERS: 'k:9092' },
  'historian-connector': { WEIR_KAFKA__BROKERS: 'k:9092' },
  'it-events': { WEIR_KAFKA__BROKERS: 'k:9092' },
  'plant-simulator': {},
  migrate: { WEIR_DATABASE__URL: 'postgres://u:p@db:5432/weir' },
};

const at = (value: unknown, path: string): unknown => path.split('.').reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), value);

describe('configuration reference', () => {
  beforeAll(async () => {
    refs = await buildConfigReference(ROOT);
  }, 120_000);

  it(`${CONFIG_REFERENCE_FILE} is what the generator makes (run npx tsx tools/docs/generate-config-reference.ts)`, () => {
    const committed = readFileSync(join(ROOT, CONFIG_REFERENCE_FILE), 'utf8');
    expect(renderConfigReference(refs) === committed, `${CONFIG_REFERENCE_FILE} is stale`).toBe(true);
  });

  it('covers every service and the migrate command', () => {
    expect(refs.map((r) => r.name)).toEqual(['analytics-api', 'correlator', 'enricher', 'erp-sync', 'historian-connector', 'it-events', 'opcua-connector', 'plant-simulator', 'timescale-sink', 'migrate']);
  });

  it('documents known keys with their variable, default and description', () => {
    expect(row('opcua-connector', 'opcua.maxPendingSamples')).toMatchObject({ env: 'WEIR_OPCUA__MAX_PENDING_SAMPLES', type: 'integer', default: '`200000`', required: 'no', constraints: ['≥ 1000'] });
    expect(row('opcua-connector', 'opcua.maxPendingSamples').description).toMatch(/not yet on disk/);
    expect(row('timescale-sink', 'sink.batchSize')).toMatchObject({ env: 'WEIR_SINK__BATCH_SIZE', default: '`5000`', constraints: ['≥ 1', '≤ 100000'] });
    expect(row('timescale-sink', 'database.url')).toMatchObject({ env: 'WEIR_DATABASE__URL', required: 'yes' });
    expect(row('enricher', 'enricher.sessionTimeoutMs')).toMatchObject({ env: 'WEIR_ENRICHER__SESSION_TIMEOUT_MS', type: 'duration (ms)', default: '`30000` (30s)' });
    expect(row('correlator', 'kafka.brokers')).toMatchObject({ env: 'WEIR_KAFKA__BROKERS', required: 'yes' });
    expect(row('correlator', 'kafka.brokers').description).toMatch(/Bootstrap brokers/);
    expect(row('erp-sync', 'sap.baseUrl')).toMatchObject({ env: 'WEIR_SAP__BASE_URL', required: 'yes, if `sap` is given' });
    expect(row('historian-connector', 'sources[].endpointUrl')).toMatchObject({ envNote: 'file only', required: 'yes (in each item)' });
    expect(row('erp-sync', 'sap.auth.username')).toMatchObject({ env: 'WEIR_SAP__AUTH__USERNAME', constraints: ['only when `sap.auth.type` is `basic`', 'not empty'] });
    expect(row('it-events', 'syslog.tls.certFile')).toMatchObject({ env: 'WEIR_SYSLOG__TLS__CERT_FILE', required: 'yes, if `syslog.tls` is given' });
    expect(row('analytics-api', 'api.auth.apiKeys.<name>.role')).toMatchObject({ env: 'WEIR_API__AUTH__API_KEYS__<NAME>__ROLE' });
    // A JSDoc on the same line as the opening brace: `z.object({ /** ... */ mfa: ... })`.
    expect(row('it-events', 'sources.openvpn.mfa').description).toMatch(/^`always` when the server's auth plugin/);
    expect(refs.find((r) => r.name === 'erp-sync')?.checks).toEqual(['configure at least one of sap, files and shifts']);
  });

  it('shows where observability settings live: nested in some services, top level in others', () => {
    expect(row('enricher', 'observability.logLevel')).toMatchObject({ env: 'WEIR_OBSERVABILITY__LOG_LEVEL', default: '`info`' });
    expect(row('it-events', 'logLevel')).toMatchObject({ env: 'WEIR_LOG_LEVEL', default: '`info`' });
    // The API's ops port defaults to 9465 whether or not other observability keys are given.
    expect(row('analytics-api', 'observability.opsPort')).toMatchObject({ default: '`9465`', defaultValue: 9465 });
  });

  it('map keys from the environment are camel-cased, as the reference says', async () => {
    const ref = refs.find((r) => r.name === 'timescale-sink')!;
    const mod = (await import(join(ROOT, ref.schemaFile))) as Record<string, z.ZodType>;
    const { config } = loadConfig(mod[ref.schemaName]!, { env: { ...BASE_ENV['timescale-sink'], WEIR_SINK__RETENTION__DROP_AFTER__TELEMETRY_OTHER: '400d' } });
    expect(at(config, 'sink.retention.dropAfter')).toEqual({ telemetryOther: 400 * 86_400_000 });
  });

  it('spells variables the way loadConfig reads them back', () => {
    for (const key of ['clientId', 'maxPendingSamples', 'tls', 's3Bucket', 'x509Cert']) expect(envSegmentToKey(keyToEnvSegment(key))).toBe(key);
  });

  it('each documented variable, set to its default alone, reaches its key through loadConfig', async () => {
    let checked = 0;
    for (const ref of refs) {
      const base = BASE_ENV[ref.name];
      if (!base) continue;
      const mod = (await import(join(ROOT, ref.schemaFile))) as Record<string, z.ZodType>;
      const schema = mod[ref.schemaName]!;
      for (const r of ref.rows) {
        const value = r.defaultValue;
        if (!r.env || r.env.includes('<') || r.env.endsWith('*') || value === undefined || r.constraints.some((c) => c.includes('when'))) continue;
        if ((Array.isArray(value) && value.length === 0) || (typeof value === 'object' && !Array.isArray(value))) continue;
        const text = Array.isArray(value) ? value.join(',') : String(value);
        try {
          const loaded = loadConfig(schema, { env: { ...base, [r.env]: text } });
          expect(loaded.unusedEnv, `${ref.name} ${r.env}`).toEqual([]);
          expect(at(loaded.config, r.path), `${ref.name} ${r.env}`).toEqual(value);
          checked += 1;
        } catch (err) {
          // Setting one key of an optional section brings the section in, and its required keys are then missing;
          // the variable itself must still have been accepted.
          if (!(err instanceof ConfigError)) throw err;
          expect(err.issues.map((i) => i.key).join('\n'), `${ref.name} ${r.env}`).not.toContain(`from env ${r.env})`);
        }
      }
    }
    expect(checked).toBeGreaterThan(200);
  });
});

/** The TypeScript sources of a service, tests left out. */
function serviceSources(service: string): string {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.ts') && !name.endsWith('.spec.ts')) out.push(readFileSync(path, 'utf8'));
    }
  };
  walk(join(ROOT, 'services', service, 'src'));
  return out.join('\n');
}

describe('topic table', () => {
  it(`the table in ${TOPICS_FILE} is what the generator makes from the catalogue`, () => {
    const committed = readFileSync(join(ROOT, TOPICS_FILE), 'utf8');
    expect(updateTopicTable(committed) === committed, `${TOPICS_FILE} is stale`).toBe(true);
  });

  it('names producers and consumers that use the topic definition in their code', async () => {
    const contracts = (await import('@weir/contracts')) as Record<string, unknown>;
    const exportName = (name: string) => Object.entries(contracts).find(([, v]) => v !== null && typeof v === 'object' && (v as { name?: unknown }).name === name && 'cleanupPolicy' in v)?.[0];
    expect(Object.keys(TOPIC_FLOWS).sort()).toEqual(TOPICS.map((t) => t.name).sort());
    for (const [topic, flow] of Object.entries(TOPIC_FLOWS)) {
      const constant = exportName(topic);
      expect(constant, topic).toBeDefined();
      for (const service of [...flow.producers, ...flow.consumers]) expect(serviceSources(service), `${service} uses ${topic}`).toMatch(new RegExp(`\\b${constant}\\b`));
    }
  });
});
