import { ConfigError, loadConfig } from '@weir/config';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { kafkaSettingsSchema } from './settings';

const schema = z.object({ kafka: kafkaSettingsSchema });

describe('kafkaSettingsSchema', () => {
  it('fills defaults around the required brokers', () => {
    expect(kafkaSettingsSchema.parse({ brokers: ['k1:9092'] })).toEqual({
      brokers: ['k1:9092'],
      clientId: 'weir',
      topicPrefix: '',
      ssl: false,
      connectionTimeoutMs: 3000,
      requestTimeoutMs: 30_000,
    });
  });

  it('reads every setting from environment strings', () => {
    const { config } = loadConfig(schema, {
      env: {
        WEIR_KAFKA__BROKERS: 'k1:9092, [::1]:9093',
        WEIR_KAFKA__CLIENT_ID: 'enricher',
        WEIR_KAFKA__TOPIC_PREFIX: 'plant1.',
        WEIR_KAFKA__SSL__CA: '/etc/weir/ca.pem',
        WEIR_KAFKA__SSL__REJECT_UNAUTHORIZED: 'no',
        WEIR_KAFKA__SASL__MECHANISM: 'SCRAM-SHA-512',
        WEIR_KAFKA__SASL__USERNAME: 'weir',
        WEIR_KAFKA__SASL__PASSWORD: 's3cret',
        WEIR_KAFKA__CONNECTION_TIMEOUT_MS: '5s',
        WEIR_KAFKA__REQUEST_TIMEOUT_MS: '1m',
        WEIR_KAFKA__PARTITIONS: '12',
        WEIR_KAFKA__REPLICATION_FACTOR: '3',
      },
    });
    expect(config.kafka).toEqual({
      brokers: ['k1:9092', '[::1]:9093'],
      clientId: 'enricher',
      topicPrefix: 'plant1.',
      ssl: { ca: '/etc/weir/ca.pem', rejectUnauthorized: false },
      sasl: { mechanism: 'scram-sha-512', username: 'weir', password: 's3cret' },
      connectionTimeoutMs: 5000,
      requestTimeoutMs: 60_000,
      partitions: 12,
      replicationFactor: 3,
    });
  });

  it('takes ssl as a plain boolean from the environment', () => {
    const { config } = loadConfig(schema, { env: { WEIR_KAFKA__BROKERS: 'k:9092', WEIR_KAFKA__SSL: 'true' } });
    expect(config.kafka.ssl).toBe(true);
  });

  it('reports every invalid setting at once', () => {
    try {
      loadConfig(schema, { env: { WEIR_KAFKA__BROKERS: 'no-port', WEIR_KAFKA__TOPIC_PREFIX: 'bad prefix/', WEIR_KAFKA__SASL__MECHANISM: 'gssapi', WEIR_KAFKA__SASL__USERNAME: 'u', WEIR_KAFKA__SASL__PASSWORD: 'p', WEIR_KAFKA__PARTITIONS: '0' } });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const keys = (err as ConfigError).issues.map((i) => i.key.split(' ')[0]);
      expect(keys).toEqual(expect.arrayContaining(['kafka.brokers.0', 'kafka.topicPrefix', 'kafka.sasl.mechanism', 'kafka.partitions']));
    }
  });

  it('requires at least one broker', () => {
    expect(kafkaSettingsSchema.safeParse({ brokers: '' }).success).toBe(false);
    expect(kafkaSettingsSchema.safeParse({}).success).toBe(false);
  });
});
