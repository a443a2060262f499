import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { HealthRegistry } from './health';
import type { Logger } from './logger';

/** The running health/metrics server. */
export interface OpsServer {
  /** The port it listens on (useful when 0 was asked for). */
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Serves `GET /metrics` (Prometheus text), `GET /health/live` and
 * `GET /health/ready` (200 or 503 with a JSON report). Nothing else: this is
 * the only port an OT-side connector opens, so it takes no input.
 */
export async function startOpsServer(options: { host: string; port: number; metrics: Registry; health: HealthRegistry; logger: Logger }): Promise<OpsServer> {
  const { metrics, health, logger } = options;
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') {
      res.writeHead(405, { allow: 'GET', 'content-type': 'application/json' }).end(JSON.stringify({ error: 'only GET is served here' }));
      return;
    }
    const respond = async (): Promise<void> => {
      if (path === '/metrics') {
        res.writeHead(200, { 'content-type': metrics.contentType }).end(await metrics.metrics());
      } else if (path === '/health/live' || path === '/health/ready') {
        const report = await health.report(path === '/health/live' ? 'liveness' : 'readiness');
        res.writeHead(report.status === 'ok' ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(report));
      } else {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'not found', paths: ['/metrics', '/health/live', '/health/ready'] }));
      }
    };
    respond().catch((err: unknown) => {
      logger.error({ err }, 'ops endpoint failed');
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  logger.info({ host: options.host, port }, 'health and metrics listening');
  return {
    port,
    close: () => new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve()))),
  };
}
