import { ConfigError, loadConfig, redact } from '@weir/config';
import type { Registry } from 'prom-client';
import type { z } from 'zod';
import { HealthRegistry } from './health';
import { createLogger, type Logger } from './logger';
import { createMetricsRegistry } from './metrics';
import { startOpsServer } from './ops-server';
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
  /** The service's metrics registry (`service` label, `weir_` process metrics), made on first use; the ops server serves it. */
  readonly metrics: Registry;
  /** The service's health checks; the ops server reports them. */
  health: HealthRegistry;
}

/** Where the ops server (`/metrics`, `/health/live`, `/health/ready`) listens. */
export interface OpsAddress {
  host: string;
  port: number;
}

/** A service `runService` started. */
export interface RunningService {
  shutdown: GracefulShutdown;
  /** The ops server's port, when `ops` was given. */
  opsPort: number | undefined;
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
  /**
   * Where the ops server listens, from the settings. When given, it starts once `start` resolved,
   * serving the context's `metrics` and `health`, and is the first thing stopped. Leave it out
   * for a service that runs its own.
   */
  ops?: (config: z.infer<Schema>) => OpsAddress;
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
 * - with `ops`, the ops server (metrics and health) starts after the service and stops before it;
 * - a failure to start is logged as fatal (with its code), what had started is stopped, exit code 1.
 * Resolves once the service started, or to `undefined` when it did not (see `process.exitCode`).
 */
export async function runService<Schema extends z.ZodType>(options: RunServiceOptions<Schema>): Promise<RunningService | undefined> {
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
  let metrics: Registry | undefined;
  const context: ServiceContext<z.infer<Schema>> = {
    config,
    logger,
    shutdown,
    file,
    get metrics() {
      return (metrics ??= createMetricsRegistry(options.name));
    },
    health: new HealthRegistry(),
  };
  try {
    await options.start(context);
    let opsPort: number | undefined;
    if (options.ops) {
      const address = options.ops(config);
      const ops = await startOpsServer({ ...address, metrics: context.metrics, health: context.health, logger });
      shutdown.add({ name: 'ops server', stop: () => ops.close() });
      opsPort = ops.port;
    }
    return { shutdown, opsPort };
  } catch (err) {
    logger.fatal({ err, code: (err as { code?: unknown }).code }, `${options.name} failed to start`);
    await shutdown.shutdown().catch(() => undefined);
    (options.exit ?? process.exit)(1);
    return undefined;
  }
}
