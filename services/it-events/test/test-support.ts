import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ItSecurityEventV1 } from '@weir/contracts';
import { createKafkaClient, kafkaSettingsSchema } from '@weir/kafka';
import { capturingLogger, uniqueSuffix, waitFor } from '@weir/testing';
import type { Consumer } from 'kafkajs';
import { inject } from 'vitest';

/** Runs a program and resolves with its stdout; rejects with its stderr on failure. */
export const run = promisify(execFile);


/** One message read back from Kafka. */
export interface Received {
  key: string;
  event: ItSecurityEventV1;
}

/** Reads a topic from the beginning for the whole test file; `waitForEvent` polls what arrived. */
export class TopicReader {
  readonly messages: Received[] = [];
  private consumer: Consumer | undefined;

  constructor(
    private readonly topic: string,
    private readonly brokers: string[] = inject('kafkaBrokers'),
  ) {}

  async start(): Promise<void> {
    const { logger } = capturingLogger('it-events-test');
    const kafka = createKafkaClient(kafkaSettingsSchema.parse({ brokers: this.brokers, clientId: `it-events-reader-${uniqueSuffix()}` }), logger);
    const consumer = kafka.consumer({ groupId: `it-events-reader-${uniqueSuffix()}`, maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topics: [this.topic], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        this.messages.push({ key: message.key?.toString() ?? '', event: JSON.parse(message.value!.toString()) as ItSecurityEventV1 });
      },
    });
    this.consumer = consumer;
  }

  /** The first event that satisfies `match`, waiting for it to arrive. */
  waitForEvent(what: string, match: (e: ItSecurityEventV1) => boolean, timeoutMs = 30_000): Promise<Received> {
    return waitFor(() => this.messages.find((m) => match(m.event)), { timeoutMs, what });
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
  }
}

/** A self-signed CA, a server certificate for 127.0.0.1 and a client certificate, made with openssl. */
export async function makeCertificates(dir: string): Promise<{ ca: string; serverCert: string; serverKey: string; clientCert: string; clientKey: string }> {
  const f = (n: string): string => join(dir, n);
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '2', '-subj', '/CN=weir-test-ca']);
  for (const [name, cn, ext] of [
    ['server', '127.0.0.1', 'subjectAltName=IP:127.0.0.1'],
    ['client', 'syslog-relay-1', 'extendedKeyUsage=clientAuth'],
  ] as const) {
    await run('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`), '-subj', `/CN=${cn}`]);
    writeFileSync(f(`${name}.ext`), `${ext}\n`);
    await run('openssl', ['x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f(`${name}.pem`), '-days', '2', '-extfile', f(`${name}.ext`)]);
  }
  return { ca: f('ca.pem'), serverCert: f('server.pem'), serverKey: f('server.key'), clientCert: f('client.pem'), clientKey: f('client.key') };
}
