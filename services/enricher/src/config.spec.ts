import { ConfigError, loadConfig } from '@weir/config';
import { describe, expect, it } from 'vitest';
import { enricherSettingsSchema } from './config';

const env = { WEIR_KAFKA__BROKERS: '127.0.0.1:9092' };

function problems(extra: Record<string, string>): string[] {
  try {
    loadConfig(enricherSettingsSchema, { env: { ...env, ...extra } });
  } catch (err) {
    if (err instanceof ConfigError) return err.issues.map((i) => `${i.key}: ${i.problem}`);
    throw err;
  }
  return [];
}

describe('enricher settings', () => {
  it('reads the mapping rules as JSON from the environment and fills the defaults', () => {
    const { config } = loadConfig(enricherSettingsSchema, { env: { ...env, WEIR_ENRICHER__MAPPING: '[{"kind":"explicit","nodeId":"ns=2;i=5","assetId":"filler1"}]', WEIR_ENRICHER__INSTANCE_ID: 'enricher-1' } });
    expect(config.enricher).toMatchObject({ groupId: 'enricher', instanceId: 'enricher-1', sessionTimeoutMs: 30_000, provisionTopics: true, mapping: [{ kind: 'explicit', nodeId: 'ns=2;i=5', assetId: 'filler1' }] });
  });

  it('names the key of a rule that cannot be compiled, with the rule and the problem', () => {
    expect(problems({ WEIR_ENRICHER__MAPPING: '[{"kind":"pattern","target":"nodeId","regex":"^(\\\\w+)$","assetId":"$2"}]' })).toEqual([
      'enricher.mapping (from env WEIR_ENRICHER__MAPPING): rule 0 (pattern[0]): template names capture "2" but the pattern has 1 numbered capture(s)',
    ]);
  });

  it('lists every bad setting at once', () => {
    const found = problems({ WEIR_ENRICHER__INSTANCE_ID: 'has space', WEIR_ENRICHER__MEASUREMENT_PATTERN: '(' });
    expect(found).toHaveLength(2);
    expect(found[0]).toMatch(/^enricher\.instanceId \(from env WEIR_ENRICHER__INSTANCE_ID\): /);
    expect(found[1]).toBe('enricher.measurementPattern (from env WEIR_ENRICHER__MEASUREMENT_PATTERN): must be a valid regular expression');
  });
});
