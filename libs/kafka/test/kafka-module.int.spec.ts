import 'reflect-metadata';
import { Inject, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { telemetryRawV1, topicName } from '@weir/contracts';
import { uniqueTopicPrefix } from '@weir/testing';
import type { Admin, Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BatchingProducer, ensureTopics, KAFKA_CLIENT, KafkaModule, kafkaSettingsSchema } from '@weir/kafka';
import { endOffsets, sample, testClient, testLogger } from './helpers';

let admin: Admin;

beforeAll(async () => {
  ({ admin } = await testClient('nest'));
});
afterAll(async () => {
  await admin.disconnect();
});

@Injectable()
class TelemetryPublisher {
  constructor(
    @Inject(BatchingProducer) readonly producer: BatchingProducer,
    @Inject(KAFKA_CLIENT) readonly kafka: Kafka,
  ) {}

  publish(seq: number): Promise<void> {
    return this.producer.send(telemetryRawV1, sample(seq));
  }
}

describe('KafkaModule', () => {
  it('provides a connected shared producer and the client, and closes the producer on shutdown', async () => {
    const prefix = uniqueTopicPrefix('kafka-nest');
    await ensureTopics(admin, [telemetryRawV1], { prefix, partitions: 1, withDlq: false });
    const settings = kafkaSettingsSchema.parse({ brokers: inject('kafkaBrokers'), clientId: 'nest-test', topicPrefix: prefix });

    @Module({ imports: [KafkaModule.forRoot({ settings, logger: testLogger() })], providers: [TelemetryPublisher] })
    class AppModule {}

    const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
    const publisher = app.get(TelemetryPublisher);
    await publisher.publish(1);
    await publisher.publish(2);
    expect(publisher.kafka).toBeDefined();
    await app.close();

    await expect(publisher.publish(3)).rejects.toMatchObject({ code: 'KAFKA.PRODUCER_CLOSED' });
    expect((await endOffsets(admin, topicName(telemetryRawV1, prefix))).get(0)).toBe(2n);
  });

  it('takes its options from a factory with forRootAsync', async () => {
    const prefix = uniqueTopicPrefix('kafka-nest-async');
    await ensureTopics(admin, [telemetryRawV1], { prefix, partitions: 1, withDlq: false });
    const SETTINGS = Symbol('SETTINGS');

    @Module({ providers: [{ provide: SETTINGS, useValue: { brokers: inject('kafkaBrokers'), topicPrefix: prefix } }], exports: [SETTINGS] })
    class ConfigModule {}

    @Module({
      imports: [
        KafkaModule.forRootAsync({
          imports: [ConfigModule],
          inject: [SETTINGS],
          useFactory: (raw: unknown) => ({ settings: kafkaSettingsSchema.parse(raw), logger: testLogger(), producer: { lingerMs: 1 } }),
        }),
      ],
      providers: [TelemetryPublisher],
    })
    class AppModule {}

    const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
    await app.get(TelemetryPublisher).publish(7);
    await app.close();
    expect((await endOffsets(admin, topicName(telemetryRawV1, prefix))).get(0)).toBe(1n);
  });
});
