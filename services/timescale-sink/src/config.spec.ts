import { ConfigError, loadConfig } from '@weir/config';
import { describe, expect, it } from 'vitest';
import { sinkSettingsSchema } from './config';

describe('sink settings', () => {
  it('reads everything from the environment, with the libs\' own sections', () => {
    const { config } = loadConfig(sinkSettingsSchema, {
      env: {
        WEIR_KAFKA__BROKERS: 'k1:9092,k2:9092',
        WEIR_DATABASE__URL: 'postgres://weir:secret@db:5432/weir',
        WEIR_SINK__FEEDS: 'telemetry,erp',
        WEIR_SINK__BATCH_SIZE: '2000',
        WEIR_SINK__FLUSH_INTERVAL_MS: '250ms',
        WEIR_SINK__RETENTION__DROP_AFTER__TELEMETRY: '400d',
        WEIR_SINK__CHUNK_INTERVALS__TELEMETRY: '6h',
        WEIR_SINK__STATE__TAG_PATTERN: '^(.*\\.)Status$',
        WEIR_SINK__COMPLETENESS__GRACE_MS: '5m',
      },
    });
    expect(config.kafka.brokers).toEqual(['k1:9092', 'k2:9092']);
    expect(config.database.applicationName).toBe('weir-timescale-sink');
    expect(config.sink.feeds).toEqual(['telemetry', 'erp']);
    expect(config.sink.batchSize).toBe(2000);
    expect(config.sink.flushIntervalMs).toBe(250);
    expect(config.sink.retention.dropAfter).toEqual({ telemetry: 400 * 86_400_000 });
    expect(config.sink.chunkIntervals).toEqual({ telemetry: 6 * 3_600_000 });
    expect(config.sink.state.tagPattern).toBe('^(.*\\.)Status$');
    expect(config.sink.state.reasonSuffix).toBe('DownReason');
    expect(config.sink.completeness.graceMs).toBe(300_000);
    expect(config.observability.opsPort).toBe(9464);
  });

  it('names every bad setting at once', () => {
    try {
      loadConfig(sinkSettingsSchema, { env: { WEIR_DATABASE__URL: 'mysql://x', WEIR_SINK__FEEDS: 'telemetry,weather', WEIR_SINK__STATE__TAG_PATTERN: '(' } });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const keys = (err as ConfigError).issues.map((i) => i.key.split(' ')[0]);
      expect(keys).toEqual(expect.arrayContaining(['kafka', 'database.url', 'sink.feeds.1', 'sink.state.tagPattern']));
    }
  });
});
