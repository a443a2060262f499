import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { telemetryRawV1, topicName, type TelemetryRawV1 } from '@weir/contracts';
import { uniqueTopicPrefix, waitFor } from '@weir/testing';
import type { Admin, Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { BatchingProducer, ensureTopics, StoreAndForwardProducer } from '@weir/kafka';
import { endOffsets, readAll, testClient } from './helpers';
import type { Logger } from '@weir/observability';

let kafka: Kafka;
let admin: Admin;
let logger: Logger;

beforeAll(async () => {
  ({ kafka, admin, logger } = await testClient('spool-crash'));
});
afterAll(async () => {
  await admin.disconnect();
});

const REPO = resolve(__dirname, '..', '..', '..');
const CHILD = resolve(__dirname, 'fixtures', 'spool-child.ts');
// The forwarded batch size of the child's spool: the most that can be in flight at the kill.
const WINDOW = 1000;

describe('StoreAndForwardProducer after SIGKILL', () => {
  it('delivers every acknowledged record after a kill mid-stream, resends only the unacknowledged window, and recovers the state of the last whole frame', async () => {
    const prefix = uniqueTopicPrefix('spool-crash');
    const topic = topicName(telemetryRawV1, prefix);
    await ensureTopics(admin, [telemetryRawV1], { prefix, partitions: 3, withDlq: false });
    const dir = await mkdtemp(join(tmpdir(), 'weir-spool-crash-'));
    try {
      // The child appends as fast as it can (faster than Kafka takes it), so at the kill the spool
      // holds a backlog, a batch is in flight, and an append is usually half written.
      const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
        cwd: REPO,
        // Vitest's NODE_OPTIONS (its loader hooks) must not reach a plain node child.
        env: { ...process.env, NODE_OPTIONS: '', SPOOL_DIR: dir, KAFKA_BROKERS: inject('kafkaBrokers').join(','), TOPIC_PREFIX: prefix },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let acked = 0;
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      createInterface({ input: child.stdout }).on('line', (line) => {
        const [word, n] = line.split(' ');
        if (word === 'acked') acked = Math.max(acked, Number(n));
      });
      const exited = new Promise<NodeJS.Signals | number | null>((res) => child.on('exit', (code, signal) => res(signal ?? code)));
      try {
        // Kill once a good part was acknowledged and Kafka is well behind (a backlog to resend).
        await waitFor(
          async () => {
            if (acked < 30_000) return undefined;
            const inKafka = [...(await endOffsets(admin, topic)).values()].reduce((a, b) => a + b, 0n);
            return inKafka > 0n && BigInt(acked) - inKafka >= 5_000n ? true : undefined;
          },
          { timeoutMs: 120_000, intervalMs: 20, what: `the child to append 30,000 records with Kafka 5,000 behind (acked ${acked}; stderr: ${stderr.slice(0, 500)})` },
        );
      } finally {
        child.kill('SIGKILL');
      }
      expect(await exited).toBe('SIGKILL');
      // Lines written before the kill are still in the pipe; let the reader drain them.
      await new Promise((r) => setTimeout(r, 200));
      const lastAcked = acked;
      const inKafkaAtKill = [...(await endOffsets(admin, topic)).values()].reduce((a, b) => a + b, 0n);
      expect(inKafkaAtKill).toBeLessThan(BigInt(lastAcked));

      // Restart: the spool recovers the log and resends what Kafka had not acknowledged.
      const producer = new BatchingProducer(kafka, { logger, topicPrefix: prefix });
      const spool = await StoreAndForwardProducer.open({ dir, producer, logger, segmentBytes: 1024 * 1024, maxBytes: 256 * 1024 * 1024 });
      let next: number;
      try {
        next = spool.getState('next') as number;
        // The state is at least as new as every acknowledged append, and the frame that carried it
        // also carried its records (checked against Kafka below).
        expect(next).toBeGreaterThanOrEqual(lastAcked);
        expect(next % 2000).toBe(0); // whole appends only (the child's BATCH)
        expect(spool.getState('lastSourceTime')).toBe(new Date(Date.UTC(2026, 10, 25, 8) + next - 1).toISOString());
        // The connector carries on from the recovered state.
        const more = Array.from({ length: 1000 }, (_, i) => next + i);
        await spool.appendMany(telemetryRawV1, more.map((seq) => childSample(seq)), { state: { next: next + 1000 } });
        await spool.flush();
        expect(spool.stats().bufferedRecords).toBe(0);
      } finally {
        await spool.close();
        await producer.close();
      }

      const messages = await readAll(kafka, admin, topic);
      const count = new Map<number, number>();
      const firstSeenByKey = new Map<string, number>();
      let outOfOrder = 0;
      for (const m of messages) {
        const seq = (JSON.parse(m.value!.toString()) as TelemetryRawV1).seq;
        const times = (count.get(seq) ?? 0) + 1;
        count.set(seq, times);
        if (times > 1) continue; // order is judged on first arrivals; a resend repeats earlier ones
        const key = m.key!.toString();
        const prev = firstSeenByKey.get(key);
        if (prev !== undefined && seq <= prev) outOfOrder++;
        firstSeenByKey.set(key, seq);
      }
      const total = next + 1000;
      // Nothing lost: every record the child was told is durable, and every record of every whole
      // frame recovered after it, is in Kafka; nothing else is (no seq was reused or invented).
      expect(count.size).toBe(total);
      for (let seq = 0; seq < total; seq++) if (!count.has(seq)) throw new Error(`seq ${seq} is missing`);
      // Duplicates only from the batch that was in flight at the kill (sent, answer lost with the
      // process): consumers deduplicate by (sourceId, seq). Never more than one batch.
      const duplicates = messages.length - count.size;
      expect(duplicates).toBeLessThanOrEqual(WINDOW);
      expect([...count.values()].every((n) => n <= 2)).toBe(true);
      expect(outOfOrder).toBe(0);
      process.stdout.write(`spool crash test: killed after ${lastAcked} acknowledged, ${inKafkaAtKill} in Kafka at the kill, recovered state next=${next}, ${duplicates} duplicate(s) after restart\n`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

function childSample(seq: number): TelemetryRawV1 {
  return {
    sourceId: 'plant-hamburg',
    nodeId: `ns=3;s=Line1.Filler.Tag${seq % 50}`,
    seq,
    origin: 'opcua',
    value: seq / 4,
    dataType: 'Double',
    status: 0,
    sourceTime: new Date(Date.UTC(2026, 10, 25, 8) + seq).toISOString(),
  };
}
