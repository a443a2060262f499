import { Writable } from 'node:stream';
import { createLogger } from '@weir/observability';
import { logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { kafkajsLogLevel, pinoLogCreator, sanitizeKafkajsLogFields, tlsOptions } from './client';
import { KafkaError } from './kafka-error';

function capture(level = 'debug') {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  const logger = createLogger({ service: 't', level, destination: stream });
  return { logger, lines: () => lines.join('').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('kafkajsLogLevel', () => {
  it.each([
    ['silent', logLevel.NOTHING],
    ['fatal', logLevel.ERROR],
    ['error', logLevel.ERROR],
    ['warn', logLevel.WARN],
    ['info', logLevel.INFO],
    ['debug', logLevel.DEBUG],
    ['trace', logLevel.DEBUG],
  ])('pino %s is kafkajs %i', (pino, kafkajs) => {
    expect(kafkajsLogLevel(pino)).toBe(kafkajs);
  });
});

describe('sanitizeKafkajsLogFields', () => {
  it('keeps scalars and short scalar arrays, drops objects, buffers and payload-like keys', () => {
    const out = sanitizeKafkajsLogFields({
      broker: 'k1:9092',
      retryCount: 3,
      topics: ['a', 'b'],
      error: new Error('boom'),
      value: 'secret payload',
      messages: [{ value: 'x' }],
      nested: { a: 1 },
      buf: Buffer.from('x'),
      undef: undefined,
    });
    expect(out).toEqual({ broker: 'k1:9092', retryCount: 3, topics: ['a', 'b'], error: 'boom' });
  });

  it('truncates long strings', () => {
    const out = sanitizeKafkajsLogFields({ stack: 'x'.repeat(2000) });
    expect((out['stack'] as string).length).toBe(501);
  });
});

describe('pinoLogCreator', () => {
  it('writes kafkajs entries at the matching pino level with the namespace and no payload', () => {
    const { logger, lines } = capture();
    const log = pinoLogCreator(logger)(logLevel.DEBUG);
    log({ namespace: 'Connection', level: logLevel.ERROR, label: 'ERROR', log: { timestamp: 'now', message: 'Connection error', broker: 'k1:9092', payload: 'x' } });
    log({ namespace: 'Consumer', level: logLevel.INFO, label: 'INFO', log: { timestamp: 'now', message: 'Starting', groupId: 'g' } });
    expect(lines()).toEqual([
      expect.objectContaining({ level: 'error', msg: 'Connection error', component: 'kafkajs', kafkajs: 'Connection', broker: 'k1:9092' }),
      expect.objectContaining({ level: 'info', msg: 'Starting', kafkajs: 'Consumer', groupId: 'g' }),
    ]);
    expect(lines()[0]).not.toHaveProperty('payload');
  });

  it('logs broker error answers and attempts kafkajs retries as warnings', () => {
    const { logger, lines } = capture();
    pinoLogCreator(logger)(logLevel.DEBUG)({ namespace: 'Connection', level: logLevel.ERROR, label: 'ERROR', log: { timestamp: 'now', message: 'Response Metadata(key: 3, version: 6)', error: 'This server does not host this topic-partition' } });
    pinoLogCreator(logger)(logLevel.DEBUG)({ namespace: 'Producer', level: logLevel.ERROR, label: 'ERROR', log: { timestamp: 'now', message: 'Failed to send messages: x', retryCount: 0, retryTime: 50 } });
    expect(lines()).toEqual([expect.objectContaining({ level: 'warn', msg: 'Response Metadata(key: 3, version: 6)' }), expect.objectContaining({ level: 'warn', retryCount: 0 })]);
  });

  it('writes nothing below the logger level', () => {
    const { logger, lines } = capture('warn');
    pinoLogCreator(logger)(logLevel.DEBUG)({ namespace: 'X', level: logLevel.INFO, label: 'INFO', log: { timestamp: 'now', message: 'chatty' } });
    expect(lines()).toEqual([]);
  });
});

describe('tlsOptions', () => {
  it('passes booleans through', () => {
    expect(tlsOptions(true)).toBe(true);
    expect(tlsOptions(false)).toBe(false);
  });

  it('names a CA file that cannot be read', () => {
    expect(() => tlsOptions({ ca: '/nonexistent/ca.pem', rejectUnauthorized: true })).toThrow(KafkaError);
    expect(() => tlsOptions({ ca: '/nonexistent/ca.pem', rejectUnauthorized: true })).toThrow(/KAFKA.TLS_FILE_UNREADABLE.*\/nonexistent\/ca.pem/);
  });
});
