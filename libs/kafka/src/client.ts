import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { Logger } from '@weir/observability';
import { Kafka, logLevel, type LogEntry, type logCreator, type SASLOptions } from 'kafkajs';
import { KafkaError, errorMessage } from './kafka-error';
import type { KafkaSettings, KafkaSslSettings } from './settings';
import { installSizedRecordEncoder } from './kafkajs-record-encoder';

/** The kafkajs level that lets through what a pino logger at `level` would print. */
export function kafkajsLogLevel(level: string): logLevel {
  switch (level) {
    case 'silent':
      return logLevel.NOTHING;
    case 'fatal':
    case 'error':
      return logLevel.ERROR;
    case 'warn':
      return logLevel.WARN;
    case 'info':
      return logLevel.INFO;
    default:
      return logLevel.DEBUG;
  }
}

// kafkajs puts request details next to its messages; some of them can hold
// message keys, values or credentials, which must never reach a log line.
const DROPPED_LOG_KEYS = new Set(['key', 'value', 'values', 'payload', 'messages', 'message', 'buffer', 'data', 'headers', 'password', 'sasl', 'ssl', 'request', 'response']);
const MAX_LOG_STRING = 500;
const MAX_LOG_ARRAY = 20;

type LogScalar = string | number | boolean | null;

function scalar(v: unknown): LogScalar | undefined {
  if (v === null || typeof v === 'number' || typeof v === 'boolean') return v;
  if (typeof v === 'string') return v.length > MAX_LOG_STRING ? `${v.slice(0, MAX_LOG_STRING)}…` : v;
  if (typeof v === 'bigint') return v.toString();
  return undefined;
}

/**
 * The fields of a kafkajs log entry that are safe to log: scalars (strings
 * truncated) and short arrays of scalars; objects, buffers and anything named
 * like a payload or a secret are dropped.
 */
export function sanitizeKafkajsLogFields(extra: Readonly<Record<string, unknown>>): Record<string, LogScalar | LogScalar[]> {
  const out: Record<string, LogScalar | LogScalar[]> = {};
  for (const [k, v] of Object.entries(extra)) {
    if (DROPPED_LOG_KEYS.has(k) || v === undefined) continue;
    if (v instanceof Error) {
      out[k] = scalar(v.message) ?? null;
      continue;
    }
    if (Array.isArray(v)) {
      if (v.length > MAX_LOG_ARRAY) continue;
      const items = v.map(scalar);
      if (items.every((i): i is LogScalar => i !== undefined)) out[k] = items;
      continue;
    }
    const s = scalar(v);
    if (s !== undefined) out[k] = s;
  }
  return out;
}

/**
 * A kafkajs `logCreator` that writes through pino at the matching level, with
 * the kafkajs namespace as `kafkajs` and only sanitised fields (no payloads).
 */
export function pinoLogCreator(logger: Logger): logCreator {
  const log = logger.child({ component: 'kafkajs' });
  return () =>
    ({ namespace, level, log: entry }: LogEntry) => {
      const { message, timestamp: _timestamp, ...extra } = entry;
      const fields = { kafkajs: namespace, ...sanitizeKafkajsLogFields(extra) };
      const text = typeof message === 'string' ? message : String(message);
      switch (level) {
        case logLevel.ERROR:
          // kafkajs logs every error answer of a broker, and every attempt its retrier is about to
          // repeat, at ERROR, also the ones it then gets past (coordinator loading, leader moved,
          // concurrent transactions); failures that matter reach the caller as errors of their own.
          if ((namespace === 'Connection' && text.startsWith('Response ')) || 'retryCount' in extra) log.warn(fields, text);
          else log.error(fields, text);
          break;
        case logLevel.WARN:
          // We cap retries on purpose and report every failed send to its caller, and reset the
          // producer id after a failure (see BatchingProducer), so this warning is expected noise.
          if (text.startsWith('Limiting retries for the idempotent producer')) log.debug(fields, text);
          else log.warn(fields, text);
          break;
        case logLevel.INFO:
          log.info(fields, text);
          break;
        case logLevel.DEBUG:
          log.debug(fields, text);
          break;
        default:
          break;
      }
    };
}

function readPem(path: string | undefined, what: string): Buffer | undefined {
  if (path === undefined) return undefined;
  try {
    return readFileSync(path);
  } catch (err) {
    throw new KafkaError('KAFKA.TLS_FILE_UNREADABLE', `cannot read the TLS ${what} file ${path}: ${errorMessage(err)}`, { cause: err });
  }
}

/** The kafkajs `ssl` option for the settings; reads the PEM files. */
export function tlsOptions(ssl: KafkaSslSettings): ConnectionOptions | boolean {
  if (typeof ssl === 'boolean') return ssl;
  const options: ConnectionOptions = { rejectUnauthorized: ssl.rejectUnauthorized };
  const ca = readPem(ssl.ca, 'CA');
  const cert = readPem(ssl.cert, 'certificate');
  const key = readPem(ssl.key, 'key');
  if (ca) options.ca = [ca];
  if (cert) options.cert = cert;
  if (key) options.key = key;
  return options;
}

/**
 * A kafkajs client for the settings, logging through `logger` (kafkajs'
 * level follows the logger's). Connects lazily: producers, consumers and
 * admins made from it connect when asked.
 */
export function createKafkaClient(settings: KafkaSettings, logger: Logger): Kafka {
  // Large records (enriched samples) without kafkajs's grow-and-copy per record; same bytes.
  if (!installSizedRecordEncoder()) logger.debug('kafkajs record encoder left as it is (its produce request was loaded first)');
  const sasl: SASLOptions | undefined = settings.sasl
    ? { mechanism: settings.sasl.mechanism, username: settings.sasl.username, password: settings.sasl.password }
    : undefined;
  return new Kafka({
    clientId: settings.clientId,
    brokers: settings.brokers,
    ssl: tlsOptions(settings.ssl),
    ...(sasl ? { sasl } : {}),
    connectionTimeout: settings.connectionTimeoutMs,
    requestTimeout: settings.requestTimeoutMs,
    logLevel: kafkajsLogLevel(logger.level),
    logCreator: pinoLogCreator(logger),
  });
}
