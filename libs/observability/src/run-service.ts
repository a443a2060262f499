import { ConfigError, loadConfig, redact } from '@weir/config';
import type { z } from 'zod';
import { createLogger, type Logger } from './logger';
import { GracefulShutdown } from './shutdown';

/** What a service's `start` gets from `runService`. */
export interface ServiceContext<S> {
  /** The validated settings, read once. */
  config: S;
  logger: Logger;
  /** Add a step for everything started (`shutdown.add`); SIGTERM/SIGINT stop them in reverse order. */
  shutdown: GracefulShutdown;
  /** The settings file read (`WEIR_CONFIG_FILE`), if any. */
  file: string | undefined;
}

/** Options of `runService`. */
export interface RunServiceOptions<Schema extends z.ZodType> {
  /** Service name: the logger's `service` field and the start-up messages. */
  name: string;
  /** The service's settings schema. */
  schema: Schema;
  /** The log level among the settings (some services keep it at the top, others under `observability`). */
  logLevel: (config: z.infer<Schema>) => string;
  /** Starts the service, adding a shutdown step for each part as it starts. */
  start: (context: ServiceContext<z.infer<Schema>>) => Promise<void>;
  /** Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Ends the process after a failed start. Default `process.exit`. */
  exit?: (code: number) => void;
}

/**
 * The bootstrap of every service's `main`:
 * - settings loaded once from the environment and `WEIR_CONFIG_FILE`; when any is bad, every
 *   problem (its key, where it came from, what is wrong) goes to stderr and the exit code is 2;
 * - a pino logger at the configured level; the settings are logged with secrets redacted, with
 *   the `WEIR_` variables that matched no setting;
 * - SIGTERM/SIGINT run the shutdown steps in reverse order, then the process exits 0;
 * - a failure to start is logged as fatal (with its code), what had started is stopped, exit code 1.
 * Resolves once the service started (or did not: see `process.exitCode`).
 */
export async function runService<Schema extends z.ZodType>(options: RunServiceOptions<Schema>): Promise<void> {
  let loaded;
  try {
    loaded = loadConfig(options.schema, { env: options.env ?? process.env });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exitCode = 2;
    return;
  }
  const { config, unusedEnv, file } = loaded;
  const logger = createLogger({ service: options.name, level: options.logLevel(config) });
  logger.info({ settings: redact(config), file, unusedEnv }, `starting ${options.name}`);
  const shutdown = new GracefulShutdown(logger);
  shutdown.installSignalHandlers();
  try {
    await options.start({ config, logger, shutdown, file });
  } catch (err) {
    logger.fatal({ err, code: (err as { code?: unknown }).code }, `${options.name} failed to start`);
    await shutdown.shutdown().catch(() => undefined);
    (options.exit ?? process.exit)(1);
  }
}
