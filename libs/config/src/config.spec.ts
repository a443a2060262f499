import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, fields, loadConfig, parseDuration, redact } from './index';

const schema = z.object({
  kafka: z.object({
    brokers: fields.list(z.string().min(1)).refine((b) => b.length > 0, 'at least one broker'),
    clientId: z.string().default('weir'),
    sasl: z.object({ username: z.string(), password: z.string() }).optional(),
  }),
  sink: z.object({ batchSize: fields.int({ min: 1, max: 100_000 }).default(5000), flushInterval: fields.durationMs().default(1000), dryRun: fields.bool().default(false) }).default({ batchSize: 5000, flushInterval: 1000, dryRun: false }),
});

function file(content: string, name = 'weir.yaml'): string {
  const dir = mkdtempSync(join(tmpdir(), 'weir-config-'));
  writeFileSync(join(dir, name), content);
  return join(dir, name);
}

describe('loadConfig', () => {
  it('maps nested env variables to camel-case keys and converts types', () => {
    const { config } = loadConfig(schema, {
      env: { WEIR_KAFKA__BROKERS: 'a:9092, b:9092', WEIR_KAFKA__CLIENT_ID: 'sink-1', WEIR_SINK__BATCH_SIZE: '200', WEIR_SINK__FLUSH_INTERVAL: '2s', WEIR_SINK__DRY_RUN: 'yes' },
    });
    expect(config).toEqual({ kafka: { brokers: ['a:9092', 'b:9092'], clientId: 'sink-1' }, sink: { batchSize: 200, flushInterval: 2000, dryRun: true } });
  });

  it('lets env win over the file and fills defaults', () => {
    const path = file('kafka:\n  brokers: [file:9092]\n  clientId: from-file\n');
    const { config } = loadConfig(schema, { env: { WEIR_CONFIG_FILE: path, WEIR_KAFKA__CLIENT_ID: 'from-env' } });
    expect(config.kafka).toEqual({ brokers: ['file:9092'], clientId: 'from-env' });
    expect(config.sink.batchSize).toBe(5000);
  });

  it('reports every problem at once with the key and where it came from', () => {
    const path = file('sink:\n  batchSize: 0\n  flushIntervall: 5\n');
    try {
      loadConfig(schema, { env: { WEIR_CONFIG_FILE: path, WEIR_SINK__FLUSH_INTERVAL: 'soon' } });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const keys = (err as ConfigError).issues.map((i) => i.key);
      expect(keys).toEqual(expect.arrayContaining(['kafka', `sink.batchSize (from file ${path})`, 'sink.flushInterval (from env WEIR_SINK__FLUSH_INTERVAL)']));
      expect((err as ConfigError).message).toMatch(/"soon" is not a duration/);
    }
  });

  it('rejects an unknown key in the file but only reports unknown env variables', () => {
    const path = file('kafka:\n  brokers: [a:1]\n  clientID: x\n');
    expect(() => loadConfig(schema, { env: { WEIR_CONFIG_FILE: path } })).toThrow(/kafka.clientID .*is not a setting/);
    const loaded = loadConfig(schema, { env: { WEIR_KAFKA__BROKERS: 'a:1', WEIR_ENRICHER__WORKERS: '4' } });
    expect(loaded.unusedEnv).toEqual(['WEIR_ENRICHER__WORKERS']);
  });

  it('names a file that cannot be read', () => {
    expect(() => loadConfig(schema, { file: '/nonexistent/weir.yaml' })).toThrow(/file \/nonexistent\/weir.yaml.*cannot be read/);
  });
});

describe('redact', () => {
  it('masks secret keys and URL passwords, and leaves the rest', () => {
    const out = redact({ db: { url: 'postgres://weir:hunter2@db:5432/weir', poolMax: 10 }, kafka: { sasl: { username: 'u', password: 'p' } }, apiKey: 'k', tokens: ['a'] });
    expect(out).toEqual({ db: { url: 'postgres://weir:[redacted]@db:5432/weir', poolMax: 10 }, kafka: { sasl: { username: 'u', password: '[redacted]' } }, apiKey: '[redacted]', tokens: '[redacted]' });
  });
});

describe('parseDuration', () => {
  it.each([['250ms', 250], ['30s', 30_000], ['5m', 300_000], ['1.5h', 5_400_000], ['7d', 604_800_000], ['42', 42]])('%s is %i ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });
  it('refuses words', () => expect(parseDuration('soon')).toBeUndefined());
});
