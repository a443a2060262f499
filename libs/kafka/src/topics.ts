import { dlqTopicName, topicName, type TopicCleanupPolicy, type TopicDefinition } from '@weir/contracts';
import type { HealthCheck, Logger } from '@weir/observability';
import { ConfigResourceTypes, type Admin, type Kafka } from 'kafkajs';
import { backoffDelay, sleep, type BackoffOptions } from './backoff';
import { errorMessage, KafkaError } from './kafka-error';
import type { KafkaSettings } from './settings';

/** How `ensureTopics` names and sizes topics. */
export interface EnsureTopicsOptions {
  /** Topic name prefix of the deployment. Default ''. */
  prefix?: string;
  /** Partitions of every created topic; each definition's `defaultPartitions` when absent. */
  partitions?: number;
  /** Replication factor of created topics; the smaller of 3 and the number of brokers when absent. */
  replicationFactor?: number;
  /** Also create each topic's `.dlq` companion. Default true. */
  withDlq?: boolean;
  /** Where to log what was created. */
  logger?: Logger;
}

/** One topic to exist. */
export interface TopicPlan {
  /** Full topic name. */
  topic: string;
  numPartitions: number;
  cleanupPolicy: TopicCleanupPolicy;
  /** For a DLQ, the full name of the topic it serves. */
  dlqOf?: string;
}

/** What `ensureTopics` found and did. */
export interface EnsureTopicsResult {
  /** Topics this call created, in plan order. */
  created: string[];
  /** Planned topics that were already there (or created concurrently by someone else). */
  existing: string[];
  /** Existing topics whose cleanup policy differs from the plan; they are left alone (changing it is a decision, not a fix). */
  mismatched: { topic: string; problem: string }[];
}

/**
 * The topics that should exist for `topics`: each with its cleanup policy and,
 * unless `withDlq` is false, a `.dlq` companion. DLQs are never compacted: they
 * keep every failed message, not the latest per key.
 */
export function planTopics(topics: readonly TopicDefinition[], options: Pick<EnsureTopicsOptions, 'prefix' | 'partitions' | 'withDlq'> = {}): TopicPlan[] {
  const prefix = options.prefix ?? '';
  const plans = new Map<string, TopicPlan>();
  for (const def of topics) {
    const numPartitions = options.partitions ?? def.defaultPartitions;
    const name = topicName(def, prefix);
    plans.set(name, { topic: name, numPartitions, cleanupPolicy: def.cleanupPolicy });
    if (options.withDlq ?? true) {
      const dlq = dlqTopicName(def, prefix);
      plans.set(dlq, { topic: dlq, numPartitions, cleanupPolicy: 'delete', dlqOf: name });
    }
  }
  return [...plans.values()];
}

/** `ensureTopics` options from the Kafka settings. */
export function provisioningOptions(settings: Pick<KafkaSettings, 'topicPrefix' | 'partitions' | 'replicationFactor'>): EnsureTopicsOptions {
  return {
    prefix: settings.topicPrefix,
    ...(settings.partitions !== undefined ? { partitions: settings.partitions } : {}),
    ...(settings.replicationFactor !== undefined ? { replicationFactor: settings.replicationFactor } : {}),
  };
}

/**
 * Creates the topics of `topics` (and their DLQs) that do not exist yet, with
 * `cleanup.policy=compact` on compacted ones. Idempotent, and safe to run from
 * several services at once. Existing topics are not changed; a differing
 * cleanup policy is reported in `mismatched`. `admin` must be connected.
 */
export async function ensureTopics(admin: Admin, topics: readonly TopicDefinition[], options: EnsureTopicsOptions = {}): Promise<EnsureTopicsResult> {
  const plans = planTopics(topics, options);
  const created = new Set<string>();
  // Topics another service created a moment ago are listed before their partitions have leaders
  // everywhere ("This server does not host this topic-partition"): such retriable errors are
  // retried a few times here, so every caller does not need its own loop for them.
  for (let attempt = 1; ; attempt++) {
    try {
      return await ensureOnce(admin, plans, created, options);
    } catch (err) {
      if (!isTransient(err) || attempt >= PROVISIONING_ATTEMPTS) throw err;
      options.logger?.warn({ attempt, err: errorMessage(err) }, 'topic provisioning hit a transient error; trying again');
      await new Promise((r) => setTimeout(r, 250 * 2 ** attempt));
    }
  }
}

const PROVISIONING_ATTEMPTS = 6;

/** True when kafkajs marked the error, or the one it wraps after its own retries, as retriable. */
function isTransient(err: unknown): boolean {
  for (let e = err as { cause?: unknown; originalError?: unknown; retriable?: boolean } | undefined, depth = 0; e && depth < 5; depth++) {
    if (e.retriable === true) return true;
    e = (e.originalError ?? e.cause) as typeof e;
  }
  return false;
}

async function ensureOnce(admin: Admin, plans: readonly TopicPlan[], created: Set<string>, options: EnsureTopicsOptions): Promise<EnsureTopicsResult> {
  const result: EnsureTopicsResult = { created: [], existing: [], mismatched: [] };
  try {
    const present = new Set(await admin.listTopics());
    const missing = plans.filter((p) => !present.has(p.topic));
    let replicationFactor = options.replicationFactor;
    if (missing.length > 0 && replicationFactor === undefined) {
      const cluster = await admin.describeCluster();
      replicationFactor = Math.min(3, cluster.brokers.length);
    }
    // One topic per request: the answer then says exactly which ones this call created, even
    // when another service provisions the same topics at the same moment.
    for (const plan of missing) {
      const made = await admin.createTopics({
        waitForLeaders: true,
        topics: [
          {
            topic: plan.topic,
            numPartitions: plan.numPartitions,
            ...(replicationFactor !== undefined ? { replicationFactor } : {}),
            configEntries: [{ name: 'cleanup.policy', value: plan.cleanupPolicy }],
          },
        ],
      });
      if (made) created.add(plan.topic);
      else result.existing.push(plan.topic);
    }
    const existing = plans.filter((p) => present.has(p.topic));
    // A topic this call created in an earlier attempt is listed as present now; it still counts as created.
    for (const p of existing) (created.has(p.topic) ? result.created : result.existing).push(p.topic);
    result.created.push(...plans.filter((p) => !present.has(p.topic) && created.has(p.topic)).map((p) => p.topic));
    if (existing.length > 0) result.mismatched = await cleanupPolicyMismatches(admin, existing);
  } catch (err) {
    throw new KafkaError('KAFKA.PROVISIONING_FAILED', `ensuring ${plans.length} topic(s): ${errorMessage(err)}`, { cause: err });
  }
  if (result.created.length > 0) options.logger?.info({ created: result.created }, 'topics created');
  for (const m of result.mismatched) options.logger?.warn(m, 'existing topic differs from its definition');
  return result;
}

async function cleanupPolicyMismatches(admin: Admin, plans: readonly TopicPlan[]): Promise<EnsureTopicsResult['mismatched']> {
  const described = await admin.describeConfigs({
    includeSynonyms: false,
    resources: plans.map((p) => ({ type: ConfigResourceTypes.TOPIC, name: p.topic, configNames: ['cleanup.policy'] })),
  });
  const actual = new Map(described.resources.map((r) => [r.resourceName, r.configEntries.find((e) => e.configName === 'cleanup.policy')?.configValue]));
  const out: EnsureTopicsResult['mismatched'] = [];
  for (const p of plans) {
    const policy = actual.get(p.topic);
    // "compact,delete" keeps the latest per key and also expires: acceptable for a compacted plan.
    const ok = p.cleanupPolicy === 'compact' ? policy?.split(',').includes('compact') : policy === 'delete';
    if (!ok) out.push({ topic: p.topic, problem: `cleanup.policy is ${policy ?? 'unknown'}, the definition says ${p.cleanupPolicy}` });
  }
  return out;
}

/** Options of `provisionInBackground`. */
export interface BackgroundProvisioningOptions extends EnsureTopicsOptions {
  logger: Logger;
  /** Waits between attempts. Default 1 s doubling to 30 s. */
  retry?: BackoffOptions;
  /** What the warning after a failed attempt adds, e.g. `the spool keeps the data meanwhile`. */
  meanwhile?: string;
}

/** Topic provisioning running in the background; see `provisionInBackground`. */
export interface BackgroundProvisioning {
  /** True once every topic exists. */
  readonly provisioned: boolean;
  /** Readiness check `kafka-topics`: ready once every topic exists. */
  healthCheck(): HealthCheck;
  /** Ends the attempts (a wait between them at once) and resolves when the loop has ended. */
  stop(): Promise<void>;
}

/**
 * Runs `ensureTopics` until it succeeds, with backoff between attempts, without holding up the
 * caller: for producers that may start while Kafka is away and keep their data meanwhile (the
 * connectors' spools). Each failed attempt is logged as a warning.
 */
export function provisionInBackground(kafka: Kafka, topics: readonly TopicDefinition[], options: BackgroundProvisioningOptions): BackgroundProvisioning {
  const { logger, retry, meanwhile, ...ensure } = options;
  const abort = new AbortController();
  let provisioned = false;
  const loop = (async () => {
    for (let attempt = 1; !abort.signal.aborted; attempt++) {
      const admin = kafka.admin();
      try {
        await admin.connect();
        await ensureTopics(admin, topics, { ...ensure, logger });
        provisioned = true;
        return;
      } catch (err) {
        if (abort.signal.aborted) return;
        logger.warn({ err: errorMessage(err), attempt }, `cannot provision the topics yet${meanwhile ? `; ${meanwhile}` : ''}`);
      } finally {
        await admin.disconnect().catch(() => undefined);
      }
      await sleep(backoffDelay(attempt, { initialMs: 1000, maxMs: 30_000, ...retry }), abort.signal);
    }
  })();
  return {
    get provisioned() {
      return provisioned;
    },
    healthCheck: () => ({ name: 'kafka-topics', kind: 'readiness', check: () => ({ ok: provisioned, detail: provisioned ? 'topics exist' : 'not provisioned yet' }) }),
    stop: async () => {
      abort.abort();
      await loop;
    },
  };
}
