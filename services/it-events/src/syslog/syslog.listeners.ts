import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, isIPv6, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket, type TlsOptions } from 'node:tls';
import type { Logger } from '@weir/observability';
import { messageOf } from '../errors';
import type { ItEventsMetrics } from '../it-events.metrics';
import type { Arrival } from '../normalise/normaliser';
import type { IngestPipeline } from '../publish/ingest-pipeline';
import { SyslogFramer, type FrameEvent } from './syslog-framer';

/** Options of a TCP or TLS syslog listener. */
export interface StreamListenerOptions {
  transport: 'tcp' | 'tls';
  host: string;
  port: number;
  /** Longest frame kept whole; longer ones are cut (see `SyslogFramer`). */
  maxFrameBytes: number;
  /** Most connections at once; more are refused by the server. */
  maxConnections: number;
  /** Server certificate, key and client verification, for `tls`. */
  tls?: TlsOptions;
  /** At shutdown, how long at most to keep reading connections whose senders are still writing. */
  drainReadMs: number;
  pipeline: IngestPipeline;
  metrics: ItEventsMetrics;
  logger: Logger;
}

interface Connection {
  socket: Socket;
  framer: SyslogFramer;
  arrival: Omit<Arrival, 'receivedAt'>;
  /** Frames of earlier chunks still being handed on; chunks are processed in order. */
  work: Promise<void>;
  /** When the last bytes arrived (ms since the epoch). */
  lastData: number;
  /** The sender closed its side. */
  ended: boolean;
}

/** A connection without data for this long is taken to have sent everything, at shutdown. */
const DRAIN_QUIET_MS = 300;

/**
 * Syslog over TCP (RFC 6587: octet counting or LF framing, per frame) or TLS
 * (RFC 5425). Each chunk read pauses the socket until its frames are accepted
 * by the publish buffer: when Kafka is slow the buffer fills, reading stops,
 * and TCP flow control pushes back on the sender instead of memory growing.
 */
export class SyslogStreamListener {
  private server: Server | undefined;
  private readonly connections = new Set<Connection>();
  private stopping = false;

  constructor(private readonly options: StreamListenerOptions) {}

  /** Starts listening; resolves with the port (useful when 0 was asked for). */
  async start(): Promise<number> {
    const o = this.options;
    const server =
      o.transport === 'tls'
        ? createTlsServer(o.tls ?? {}, (socket: TLSSocket) => this.accept(socket))
        : createServer((socket) => this.accept(socket));
    server.maxConnections = o.maxConnections;
    if (o.transport === 'tls') {
      server.on('tlsClientError', (err: Error, socket: TLSSocket) => {
        o.metrics.tlsErrors.inc();
        o.logger.warn({ err: err.message, peer: socket.remoteAddress }, 'TLS handshake failed');
      });
    }
    server.on('error', (err) => o.logger.error({ err: err.message, transport: o.transport }, 'syslog listener error'));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.port, o.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    const port = (server.address() as AddressInfo).port;
    o.logger.info({ transport: o.transport, host: o.host, port }, 'syslog listening');
    return port;
  }

  /** True while the server accepts connections. */
  get listening(): boolean {
    return this.server?.listening ?? false;
  }

  /**
   * Stops accepting, stops reading every connection, hands on the frames
   * already read (a final LF-less line included) and closes the connections.
   */
  async stop(): Promise<void> {
    const closed = this.server ? new Promise<void>((resolve) => this.server!.close(() => resolve())) : Promise.resolve();
    // What senders already wrote is read first: a connection is closed once its sender closed it
    // or went quiet, so a burst sent just before the shutdown is not cut off in the socket buffer.
    const deadline = Date.now() + this.options.drainReadMs;
    while (Date.now() < deadline && [...this.connections].some((c) => !c.ended && Date.now() - c.lastData < DRAIN_QUIET_MS)) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    this.stopping = true;
    await Promise.all(
      [...this.connections].map(async (c) => {
        c.socket.pause();
        await c.work;
        await this.finish(c);
        c.socket.destroy();
      }),
    );
    await closed;
  }

  private accept(socket: Socket): void {
    const o = this.options;
    const peer = { ip: socket.remoteAddress ?? 'unknown', ...(socket.remotePort !== undefined ? { port: socket.remotePort } : {}) };
    const c: Connection = { socket, framer: new SyslogFramer(o.maxFrameBytes), arrival: { transport: o.transport, peer }, work: Promise.resolve(), lastData: Date.now(), ended: false };
    if (this.stopping) {
      socket.destroy();
      return;
    }
    this.connections.add(c);
    o.metrics.connections.inc({ transport: o.transport });
    socket.on('data', (chunk: Buffer) => {
      c.lastData = Date.now();
      socket.pause();
      c.work = c.work
        .then(() => this.handle(c, c.framer.push(chunk)))
        .then(() => {
          if (!this.stopping && !socket.destroyed && !c.framer.lost) socket.resume();
        })
        .catch((err: unknown) => {
          o.logger.error({ err: messageOf(err), peer }, 'syslog connection failed; closing it');
          socket.destroy();
        });
    });
    socket.on('end', () => {
      c.ended = true;
      c.work = c.work
        .then(() => this.finish(c))
        .catch((err: unknown) => o.logger.error({ err: messageOf(err), peer }, 'handing on the last frame failed'))
        .finally(() => socket.end());
    });
    socket.on('error', (err) => o.logger.debug({ err: err.message, peer }, 'syslog connection error'));
    socket.on('close', () => {
      if (this.connections.delete(c)) o.metrics.connections.dec({ transport: o.transport });
    });
  }

  private async handle(c: Connection, events: FrameEvent[]): Promise<void> {
    const o = this.options;
    for (const e of events) {
      const arrival: Arrival = { ...c.arrival, receivedAt: new Date() };
      if (e.kind === 'frame') {
        await o.pipeline.syslogFrame(e.bytes.toString('utf8'), arrival);
      } else if (e.kind === 'oversized') {
        const declared = e.declaredBytes !== undefined ? ` (declared ${e.declaredBytes} bytes)` : '';
        o.logger.warn({ peer: c.arrival.peer, maxFrameBytes: o.maxFrameBytes, declaredBytes: e.declaredBytes }, 'IT_EVENTS.FRAME_TOO_LARGE: frame cut to its first bytes');
        await o.pipeline.keepUnframed(e.prefix.toString('utf8'), 'IT_EVENTS.FRAME_TOO_LARGE', `frame longer than ${o.maxFrameBytes} bytes${declared}; only its first ${o.maxFrameBytes} bytes are kept`, arrival);
      } else {
        o.metrics.framingErrors.inc({ transport: o.transport, code: 'IT_EVENTS.FRAMING_LOST' });
        o.logger.warn({ peer: c.arrival.peer, reason: e.reason }, 'IT_EVENTS.FRAMING_LOST: closing the connection');
        c.socket.destroy();
      }
    }
  }

  private async finish(c: Connection): Promise<void> {
    const rest = c.framer.end();
    const arrival: Arrival = { ...c.arrival, receivedAt: new Date() };
    if (rest.frame) await this.options.pipeline.syslogFrame(rest.frame.toString('utf8'), arrival);
    if (rest.incomplete) {
      await this.options.pipeline.keepUnframed(rest.incomplete.toString('utf8'), 'IT_EVENTS.INCOMPLETE_FRAME', 'the connection ended inside an octet-counted frame', arrival);
    }
  }
}

/** Options of the UDP syslog listener. */
export interface DatagramListenerOptions {
  host: string;
  port: number;
  /** Kernel receive buffer (SO_RCVBUF) in bytes; the OS default when absent. */
  receiveBufferBytes?: number;
  pipeline: IngestPipeline;
  logger: Logger;
}

/**
 * Syslog over UDP (RFC 5426): one message per datagram. UDP cannot push
 * back: when the publish buffer is full, datagrams are dropped and counted
 * (`weir_it_events_dropped_total{transport="udp"}`).
 */
export class SyslogDatagramListener {
  private socket: UdpSocket | undefined;

  constructor(private readonly options: DatagramListenerOptions) {}

  /** Binds; resolves with the port. */
  async start(): Promise<number> {
    const o = this.options;
    const socket = createSocket({ type: isIPv6(o.host) ? 'udp6' : 'udp4', ...(o.receiveBufferBytes ? { recvBufferSize: o.receiveBufferBytes } : {}) });
    socket.on('message', (msg, rinfo) => {
      // A trailing LF or NUL is framing some senders add, not content.
      let end = msg.length;
      while (end > 0 && (msg[end - 1] === 0x0a || msg[end - 1] === 0x0d || msg[end - 1] === 0)) end--;
      if (end === 0) return;
      o.pipeline.syslogDatagram(msg.subarray(0, end).toString('utf8'), { transport: 'udp', peer: { ip: rinfo.address, port: rinfo.port }, receivedAt: new Date() });
    });
    socket.on('error', (err) => o.logger.error({ err: err.message }, 'udp syslog socket error'));
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(o.port, o.host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    this.socket = socket;
    const port = socket.address().port;
    o.logger.info({ transport: 'udp', host: o.host, port }, 'syslog listening');
    return port;
  }

  /** True while bound. */
  get listening(): boolean {
    return this.socket !== undefined;
  }

  /** Closes the socket; datagrams already handed on are in the publish buffer. */
  async stop(): Promise<void> {
    const s = this.socket;
    this.socket = undefined;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
