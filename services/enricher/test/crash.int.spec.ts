import { setTimeout as sleep } from 'node:timers/promises';
import { telemetryEnrichedV1, topicName } from '@weir/contracts';
import { killServiceProcesses, removeTempDirs, uniqueTopicPrefix, waitFor } from '@weir/testing';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { EnricherProcess } from './enricher-process';
import { checkBulkOutput, committedTotal, createTopics, produceBulk, publishScenarioContext, rawTopic, testGroupId, testKafka, waitForInputConsumed } from './helpers';

const TOTAL = 500_000;

afterAll(async () => {
  await killServiceProcesses();
  removeTempDirs();
});

describe('enricher killed with SIGKILL', () => {
  it('writes every one of 500,000 samples exactly once, with its context, after three kills at random points and restarts', { timeout: 900_000 }, async () => {
    const brokers = inject('kafkaBrokers');
    const prefix = uniqueTopicPrefix('enr-kill');
    const group = testGroupId(prefix);
    const { kafka, producer } = testKafka(brokers, prefix);
    await createTopics(kafka, brokers, prefix);
    await publishScenarioContext(producer);
    // The input is written while the first instance already runs.
    const producing = produceBulk(producer, TOTAL);
    void producing.catch(() => undefined);

    // One kill in each third of the run, at a random point inside it.
    const killPoints = [0, 1, 2].map((k) => Math.floor(TOTAL * (0.08 + 0.28 * k + Math.random() * 0.2)));
    const killedAt: number[] = [];
    for (const point of killPoints) {
      const p = await EnricherProcess.start({ brokers, prefix, instanceId: 'a' });
      await p.ready();
      await waitFor(
        async () => {
          p.assertRunning();
          return (await committedTotal(kafka, group, rawTopic(prefix))) >= point ? true : undefined;
        },
        { timeoutMs: 300_000, intervalMs: 50, what: `${point} samples committed` },
      );
      // Commits show only between transactions; a random pause lands the kill anywhere inside the next ones.
      await sleep(Math.random() * 400);
      const exit = await p.stop('SIGKILL');
      expect(exit.signal).toBe('SIGKILL');
      killedAt.push(await committedTotal(kafka, group, rawTopic(prefix)));
    }
    expect(killedAt.every((n) => n < TOTAL)).toBe(true);

    // The same instance id again: its producer fences the killed one's and the broker aborts what that left open.
    const last = await EnricherProcess.start({ brokers, prefix, instanceId: 'a' });
    await producing;
    await producer.close();
    await waitForInputConsumed(kafka, group, rawTopic(prefix), 600_000);
    const exit = await last.stop('SIGTERM');
    expect(exit, last.output.slice(-2000)).toEqual({ code: 0, signal: null });

    const check = await checkBulkOutput(kafka, topicName(telemetryEnrichedV1, prefix), TOTAL);
    expect(check.examples).toEqual([]);
    expect(check).toMatchObject({ read: TOTAL, distinct: TOTAL, duplicates: 0, missing: 0, wrong: 0 });
  });
});
