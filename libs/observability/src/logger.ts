import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

/** Paths pino masks in every log line; payloads are not logged, but settings and errors may carry these. */
const REDACT_PATHS = ['password', '*.password', '*.*.password', 'secret', '*.secret', 'token', '*.token', 'apiKey', '*.apiKey', 'authorization', '*.authorization', 'headers.authorization'];

/** A structured JSON logger for one service; `correlationId` and ids go in child loggers, never payloads. */
export function createLogger(options: { service: string; level?: string; destination?: pino.DestinationStream }): Logger {
  const opts: pino.LoggerOptions = {
    level: options.level ?? 'info',
    base: { service: options.service },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  return options.destination ? pino(opts, options.destination) : pino(opts);
}
