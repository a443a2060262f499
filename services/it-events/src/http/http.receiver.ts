import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '@weir/observability';
import { messageOf, type ItEventsErrorCode } from '../errors';
import type { ItEventsMetrics } from '../it-events.metrics';
import type { JsonHint } from '../normalise/normaliser';
import type { IngestPipeline } from '../publish/ingest-pipeline';
import { readJsonBody } from './json-body';

/** Options of the HTTP receiver. */
export interface HttpReceiverOptions {
  host: string;
  port: number;
  /** Largest body accepted; larger ones get 413. */
  maxBodyBytes: number;
  /** When set, requests must carry `Authorization: Bearer <token>`. */
  token?: string;
  pipeline: IngestPipeline;
  metrics: ItEventsMetrics;
  logger: Logger;
}

/** Path that takes events. */
export const EVENTS_PATH = '/v1/events';

/**
 * `POST /v1/events` with ECS or OCSF JSON (an object, an array, or NDJSON).
 * The answer comes after Kafka acknowledged every event of the request: 200
 * with counts and the uid and class of each event, 503 when Kafka did not
 * (the caller retries; some events may then arrive twice, with new uids).
 */
export class HttpReceiver {
  private server: Server | undefined;

  constructor(private readonly options: HttpReceiverOptions) {}

  /** Starts listening; resolves with the port. */
  async start(): Promise<number> {
    const server = createServer((req, res) => {
      this.serve(req, res).catch((err: unknown) => {
        this.options.logger.error({ err: messageOf(err) }, 'HTTP ingest failed');
        if (!res.headersSent) this.reply(res, 500, { error: { code: 'IT_EVENTS.UNEXPECTED', message: 'internal error' } });
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    const port = (server.address() as AddressInfo).port;
    this.options.logger.info({ transport: 'http', host: this.options.host, port }, 'HTTP ingest listening');
    return port;
  }

  /** True while listening. */
  get listening(): boolean {
    return this.server?.listening ?? false;
  }

  /** Stops accepting; requests in progress are answered first. */
  async stop(): Promise<void> {
    const s = this.server;
    if (!s) return;
    const closed = new Promise<void>((resolve) => s.close(() => resolve()));
    s.closeIdleConnections();
    await closed;
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== EVENTS_PATH) return this.fail(res, 404, 'IT_EVENTS.BAD_REQUEST', `no such path; events are POSTed to ${EVENTS_PATH}`);
    if (req.method !== 'POST') return this.fail(res, 405, 'IT_EVENTS.BAD_REQUEST', `only POST is accepted on ${EVENTS_PATH}`, { allow: 'POST' });
    if (this.options.token !== undefined && !this.authorised(req.headers.authorization)) {
      return this.fail(res, 401, 'IT_EVENTS.BAD_REQUEST', 'missing or wrong bearer token', { 'www-authenticate': 'Bearer' });
    }
    const hint = url.searchParams.get('format') ?? 'auto';
    if (hint !== 'auto' && hint !== 'ecs' && hint !== 'ocsf') return this.fail(res, 400, 'IT_EVENTS.BAD_REQUEST', `format "${hint}" is not one of auto, ecs, ocsf`);
    const declared = Number(req.headers['content-length'] ?? '0');
    if (declared > this.options.maxBodyBytes) return this.fail(res, 413, 'IT_EVENTS.BAD_REQUEST', `body of ${declared} bytes is over the limit of ${this.options.maxBodyBytes}`, { connection: 'close' });
    const body = await this.readBody(req);
    if (body === undefined) return this.fail(res, 413, 'IT_EVENTS.BAD_REQUEST', `body is over the limit of ${this.options.maxBodyBytes} bytes`, { connection: 'close' });
    const parsed = readJsonBody(req.headers['content-type'], body.toString('utf8'));
    if (!parsed.ok) return this.fail(res, parsed.status, 'IT_EVENTS.BAD_REQUEST', parsed.message);

    const peerIp = req.socket.remoteAddress;
    const arrival = { transport: 'http' as const, receivedAt: new Date(), ...(peerIp ? { peer: { ip: peerIp, ...(req.socket.remotePort !== undefined ? { port: req.socket.remotePort } : {}) } } : {}) };
    const events = this.options.pipeline.normaliseJson(parsed.items, arrival, hint as JsonHint, parsed.format);
    try {
      await this.options.pipeline.publishAndWait(events, 'http');
    } catch (err) {
      return this.fail(res, 503, 'IT_EVENTS.PUBLISH_FAILED', `Kafka did not acknowledge the events; send the request again: ${messageOf(err)}`, { 'retry-after': '5' });
    }
    const unparsed = events.filter((e) => e.class_uid === 0).length;
    this.reply(res, 200, { accepted: events.length, parsed: events.length - unparsed, unparsed, events: events.map((e) => ({ uid: e.uid, class_uid: e.class_uid })) });
  }

  private authorised(header: string | undefined): boolean {
    const m = /^Bearer (.+)$/i.exec(header ?? '');
    if (!m) return false;
    const given = Buffer.from(m[1]!);
    const expected = Buffer.from(this.options.token!);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  /** The body, or undefined when it grows past the limit (reading stops there). */
  private readBody(req: IncomingMessage): Promise<Buffer | undefined> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const onData = (chunk: Buffer): void => {
        size += chunk.length;
        if (size > this.options.maxBodyBytes) {
          req.off('data', onData);
          req.pause();
          resolve(undefined);
          return;
        }
        chunks.push(chunk);
      };
      req.on('data', onData);
      req.on('end', () => resolve(Buffer.concat(chunks)));
      req.on('error', reject);
    });
  }

  private fail(res: ServerResponse, status: number, code: ItEventsErrorCode, message: string, headers: Record<string, string> = {}): void {
    this.reply(res, status, { error: { code, message } }, headers);
  }

  private reply(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    this.options.metrics.httpRequests.inc({ status: String(status) });
    res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
  }
}
