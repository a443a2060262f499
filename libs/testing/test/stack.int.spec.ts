import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@weir/testing';

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
