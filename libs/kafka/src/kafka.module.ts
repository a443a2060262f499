import { Inject, Module, type DynamicModule, type InjectionToken, type ModuleMetadata, type OnApplicationShutdown, type OptionalFactoryDependency, type Provider } from '@nestjs/common';
import { createLogger, type Logger, type Registry } from '@weir/observability';
import type { Kafka } from 'kafkajs';
import { BatchingProducer, type BatchingProducerOptions } from './batching-producer';
import { createKafkaClient } from './client';
import type { KafkaSettings } from './settings';

/** What `KafkaModule` needs. */
export interface KafkaModuleOptions {
  /** Parsed Kafka settings. */
  settings: KafkaSettings;
  /** Logger for kafkajs and the producer; one named after the client id when absent. */
  logger?: Logger;
  /** Registry for the producer metrics; a private one when absent. */
  metrics?: Registry;
  /** Tuning of the shared producer. */
  producer?: Omit<BatchingProducerOptions, 'logger' | 'metrics' | 'topicPrefix'>;
}

/** Async configuration of `KafkaModule` (options from a config provider). */
export interface KafkaModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  inject?: (InjectionToken | OptionalFactoryDependency)[];
  useFactory: (...args: never[]) => KafkaModuleOptions | Promise<KafkaModuleOptions>;
  /** Make the providers visible app-wide. Default false. */
  global?: boolean;
}

/** Token of the `KafkaModuleOptions`. */
export const KAFKA_MODULE_OPTIONS: InjectionToken = Symbol('KAFKA_MODULE_OPTIONS');
/** Token of the kafkajs `Kafka` client. */
export const KAFKA_CLIENT: InjectionToken = Symbol('KAFKA_CLIENT');

const KAFKA_LOGGER = Symbol('KAFKA_LOGGER');

const sharedProviders: Provider[] = [
  {
    provide: KAFKA_LOGGER,
    inject: [KAFKA_MODULE_OPTIONS],
    useFactory: (o: KafkaModuleOptions): Logger => o.logger ?? createLogger({ service: o.settings.clientId }),
  },
  {
    provide: KAFKA_CLIENT,
    inject: [KAFKA_MODULE_OPTIONS, KAFKA_LOGGER],
    useFactory: (o: KafkaModuleOptions, logger: Logger): Kafka => createKafkaClient(o.settings, logger),
  },
  {
    provide: BatchingProducer,
    inject: [KAFKA_MODULE_OPTIONS, KAFKA_CLIENT, KAFKA_LOGGER],
    // Connected before the app starts, so a misconfigured broker fails the boot rather than the first send.
    useFactory: async (o: KafkaModuleOptions, kafka: Kafka, logger: Logger): Promise<BatchingProducer> => {
      const producer = new BatchingProducer(kafka, { ...o.producer, logger, topicPrefix: o.settings.topicPrefix, ...(o.metrics ? { metrics: o.metrics } : {}) });
      await producer.connect();
      return producer;
    },
  },
];

/**
 * Nest wiring: provides the kafkajs client (`KAFKA_CLIENT`) and one shared,
 * connected `BatchingProducer`, and flushes and disconnects that producer when
 * the application shuts down. Consumers are built by the services that own them.
 */
@Module({})
export class KafkaModule implements OnApplicationShutdown {
  constructor(@Inject(BatchingProducer) private readonly producer: BatchingProducer) {}

  /** Configures the module with options known up front. */
  static forRoot(options: KafkaModuleOptions & { global?: boolean }): DynamicModule {
    const { global = false, ...moduleOptions } = options;
    return {
      module: KafkaModule,
      global,
      providers: [{ provide: KAFKA_MODULE_OPTIONS, useValue: moduleOptions }, ...sharedProviders],
      exports: [KAFKA_CLIENT, BatchingProducer],
    };
  }

  /** Configures the module from a factory, e.g. one that reads the service's settings. */
  static forRootAsync(options: KafkaModuleAsyncOptions): DynamicModule {
    return {
      module: KafkaModule,
      global: options.global ?? false,
      imports: options.imports ?? [],
      providers: [{ provide: KAFKA_MODULE_OPTIONS, inject: options.inject ?? [], useFactory: options.useFactory }, ...sharedProviders],
      exports: [KAFKA_CLIENT, BatchingProducer],
    };
  }

  /** Flushes and disconnects the shared producer (needs `app.enableShutdownHooks()` or `app.close()`). */
  async onApplicationShutdown(): Promise<void> {
    await this.producer.close();
  }
}
