import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { canControlServers, createTestDatabase, type TestDatabase } from '@weir/testing';

describe('test stack', () => {
  const created: TestDatabase[] = [];
  afterAll(async () => {
    for (const db of created) await db.drop();
  });

  it('serves a Kafka broker that creates a topic and answers metadata', async () => {
    const kafka = new Kafka({ brokers: inject('kafkaBrokers'), clientId: 'stack-test', logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    try {
      const topic = `stack-test-${Date.now()}`;
      await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
      const meta = await admin.fetchTopicMetadata({ topics: [topic] });
      expect(meta.topics[0]?.partitions).toHaveLength(2);
    } finally {
      await admin.disconnect();
    }
  });

  it('gives each test file an empty database with TimescaleDB available', async () => {
    const db = await createTestDatabase(inject('databaseUrl'));
    created.push(db);
    const client = new Client({ connectionString: db.url });
    await client.connect();
    try {
      const tables = await client.query(`select count(*)::int as n from information_schema.tables where table_schema = 'public'`);
      expect(tables.rows[0].n).toBe(0);
      const ext = await client.query(`select default_version from pg_available_extensions where name = 'timescaledb'`);
      expect(ext.rows[0]?.default_version).toMatch(/^2\./);
    } finally {
      await client.end();
    }
  });
});

describe.runIf(canControlServers)('outage control', () => {
  it('stops a TimescaleDB and brings it back on the same port with its data', async () => {
    const { startTimescale } = await import('@weir/testing');
    const db = await startTimescale({ ...process.env, WEIR_TEST_DATABASE_URL: '' });
    try {
      const c1 = new Client({ connectionString: db.url });
      await c1.connect();
      await c1.query('create table kept (x int); insert into kept values (42)');
      await c1.end();
      await db.outage!.pause();
      const down = new Client({ connectionString: db.url, connectionTimeoutMillis: 2000 });
      await expect(down.connect()).rejects.toThrow();
      await db.outage!.resume();
      const c2 = new Client({ connectionString: db.url });
      await c2.connect();
      expect((await c2.query('select x from kept')).rows).toEqual([{ x: 42 }]);
      await c2.end();
    } finally {
      await db.stop();
    }
  });
});
