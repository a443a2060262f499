import type { AlertV1 } from '@weir/contracts';
import type { Logger } from '@weir/observability';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createConnection, type Socket } from 'node:net';
import { formatCef, formatSyslog } from './cef.formatter';

/** Where and how to send. */
export interface SyslogForwarderOptions {
  host: string;
  port: number;
  protocol: 'udp' | 'tcp';
  facility: number;
  hostname: string;
  appName: string;
  productVersion: string;
  logger: Logger;
}

/**
 * Sends alerts as CEF over syslog: UDP (one datagram per alert) or TCP
 * (one LF-terminated line per alert, RFC 6587 non-transparent framing),
 * reconnecting TCP on the next send after a failure.
 */
export class SyslogForwarder {
  private udp: UdpSocket | undefined;
  private tcp: Socket | undefined;
  private connecting: Promise<Socket> | undefined;

  constructor(private readonly options: SyslogForwarderOptions) {}

  /** The syslog line for an alert. */
  line(alert: AlertV1): string {
    return formatSyslog(alert, formatCef(alert, this.options.productVersion), this.options);
  }

  /** Sends the alerts; rejects when the transport failed (the caller counts it). */
  async send(alerts: readonly AlertV1[]): Promise<void> {
    if (alerts.length === 0) return;
    if (this.options.protocol === 'udp') {
      this.udp ??= createSocket(this.options.host.includes(':') ? 'udp6' : 'udp4');
      const sock = this.udp;
      for (const a of alerts) {
        const buf = Buffer.from(this.line(a), 'utf8');
        await new Promise<void>((resolve, reject) => sock.send(buf, this.options.port, this.options.host, (err) => (err ? reject(err) : resolve())));
      }
      return;
    }
    const sock = await this.connection();
    const payload = alerts.map((a) => `${this.line(a)}\n`).join('');
    await new Promise<void>((resolve, reject) => {
      sock.write(payload, 'utf8', (err) => {
        if (err) {
          this.tcp?.destroy();
          this.tcp = undefined;
          reject(err);
        } else resolve();
      });
    });
  }

  private async connection(): Promise<Socket> {
    if (this.tcp && !this.tcp.destroyed) return this.tcp;
    this.connecting ??= new Promise<Socket>((resolve, reject) => {
      const s = createConnection({ host: this.options.host, port: this.options.port });
      s.once('connect', () => {
        s.removeAllListeners('error');
        s.on('error', (err) => {
          this.options.logger.warn({ err, code: 'CORRELATOR.SIEM_FAILED' }, 'syslog connection failed');
          s.destroy();
        });
        s.on('close', () => {
          if (this.tcp === s) this.tcp = undefined;
        });
        resolve(s);
      });
      s.once('error', reject);
    }).finally(() => {
      this.connecting = undefined;
    });
    this.tcp = await this.connecting;
    return this.tcp;
  }

  /** Closes the sockets. */
  async close(): Promise<void> {
    const udp = this.udp;
    this.udp = undefined;
    if (udp) await new Promise<void>((resolve) => udp.close(() => resolve()));
    const tcp = this.tcp;
    this.tcp = undefined;
    if (tcp) await new Promise<void>((resolve) => tcp.end(() => resolve()));
  }
}
