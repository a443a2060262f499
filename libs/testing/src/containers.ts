import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { GenericContainer, type StartedTestContainer, Wait } from 'testcontainers';
import { freePort } from './ports';

const run = promisify(execFile);

/**
 * True when tests may start and stop servers of their own (Docker is there).
 * `npm test` sets WEIR_TEST_NO_DOCKER=1 when it runs against external
 * endpoints only; tests of outages (a database stopped mid-stream) skip then.
 */
export const canControlServers = process.env['WEIR_TEST_NO_DOCKER'] !== '1';

/** Image names the tests use unless told otherwise; built by deploy/images/build.sh. */
export const LOCAL_KAFKA_IMAGE = 'weir/kafka:3.9';
/** TimescaleDB on PostgreSQL 17 from Debian's (Apache-licensed) package. */
export const LOCAL_TIMESCALE_IMAGE = 'weir/timescaledb:17';

/** Outage control of a server started for a test: same port and data after it comes back. */
export interface OutageControl {
  /** Stops the server (the container stays, with its data); clients see connection errors. */
  pause(): Promise<void>;
  /** Starts it again on the same port and waits until it is ready. */
  resume(): Promise<void>;
  /** Kills it with SIGKILL (no clean shutdown); `resume()` brings it back. */
  kill(): Promise<void>;
}

/** A running Kafka broker for tests. */
export interface TestKafka {
  brokers: string[];
  /** Where it came from: a container of `image`, or `external`. */
  source: string;
  /** Present when the test started the server itself (not for external endpoints). */
  outage?: OutageControl;
  stop(): Promise<void>;
}

/** A running TimescaleDB for tests. */
export interface TestTimescale {
  /** Connection string of a superuser on the default database. */
  url: string;
  source: string;
  /** Present when the test started the server itself (not for external endpoints). */
  outage?: OutageControl;
  stop(): Promise<void>;
}

async function imageIsLocal(image: string): Promise<boolean> {
  try {
    await run('docker', ['image', 'inspect', image]);
    return true;
  } catch {
    return false;
  }
}

// testcontainers would try to pull a missing image and fail with a registry
// error; say instead what to run.
async function requireImage(image: string): Promise<void> {
  if (image.startsWith('weir/') && !(await imageIsLocal(image))) {
    throw new Error(`TESTING.IMAGE_MISSING: image ${image} is not built; run \`bash deploy/images/build.sh\` (or set the external endpoint variables, see libs/testing/README.md)`);
  }
}

function stopper(container: StartedTestContainer): () => Promise<void> {
  return async () => {
    // The container may have been paused through `outage`; remove it whatever its state.
    await run('docker', ['rm', '-f', container.getId()]).catch(() => undefined);
  };
}

// Stop and start through the docker CLI: testcontainers' stop() removes the container,
// and on the host network the restarted server keeps its port by construction.
function outageControl(container: StartedTestContainer, ready: RegExp): OutageControl {
  const id = container.getId();
  return {
    pause: async () => {
      await run('docker', ['stop', '-t', '10', id]);
    },
    kill: async () => {
      await run('docker', ['kill', '-s', 'KILL', id]);
    },
    resume: async () => {
      const since = new Date().toISOString();
      await run('docker', ['start', id]);
      const deadline = Date.now() + 120_000;
      for (;;) {
        const { stdout, stderr } = await run('docker', ['logs', '--since', since, id]);
        if (ready.test(stdout + stderr)) return;
        if (Date.now() > deadline) throw new Error(`TESTING.NOT_READY: container ${id} not ready 120 s after restart`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
  };
}

/**
 * Starts Kafka (KRaft, one node) on a free loopback port, or uses
 * `WEIR_TEST_KAFKA_BROKERS`. The image is `WEIR_TEST_KAFKA_IMAGE`, by default
 * the locally built one; `apache/kafka:*` images are configured their own way.
 */
export async function startKafka(env: NodeJS.ProcessEnv = process.env): Promise<TestKafka> {
  const external = env['WEIR_TEST_KAFKA_BROKERS'];
  if (external) return { brokers: external.split(',').map((b) => b.trim()), source: 'external', stop: async () => undefined };

  const image = env['WEIR_TEST_KAFKA_IMAGE'] ?? LOCAL_KAFKA_IMAGE;
  await requireImage(image);
  const port = await freePort();
  const controllerPort = await freePort();
  const environment: Record<string, string> = image.startsWith('apache/kafka')
    ? {
        KAFKA_NODE_ID: '1',
        KAFKA_PROCESS_ROLES: 'broker,controller',
        KAFKA_LISTENERS: `PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
        KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://127.0.0.1:${port}`,
        KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
        KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
        KAFKA_CONTROLLER_QUORUM_VOTERS: `1@127.0.0.1:${controllerPort}`,
        KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
        KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
        KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
        KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
        KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
      }
    : { KAFKA_PORT: String(port), KAFKA_CONTROLLER_PORT: String(controllerPort), KAFKA_ADVERTISED_HOST: '127.0.0.1' };
  const container = await new GenericContainer(image)
    .withNetworkMode('host')
    .withEnvironment(environment)
    .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
    .withStartupTimeout(120_000)
    .start();
  return { brokers: [`127.0.0.1:${port}`], source: image, outage: outageControl(container, /Kafka Server started/), stop: stopper(container) };
}

/**
 * Starts TimescaleDB on a free loopback port, or uses `WEIR_TEST_DATABASE_URL`.
 * The image is `WEIR_TEST_TIMESCALE_IMAGE`, by default the locally built one
 * (Apache licence); `timescale/timescaledb:*` gives the Timescale licence.
 */
export async function startTimescale(env: NodeJS.ProcessEnv = process.env): Promise<TestTimescale> {
  const external = env['WEIR_TEST_DATABASE_URL'];
  if (external) return { url: external, source: 'external', stop: async () => undefined };

  const image = env['WEIR_TEST_TIMESCALE_IMAGE'] ?? LOCAL_TIMESCALE_IMAGE;
  await requireImage(image);
  const port = await freePort();
  const official = image.startsWith('timescale/');
  let definition = new GenericContainer(image)
    .withNetworkMode('host')
    // Durability is not what these tests measure; fsync off keeps them fast on shared disks.
    .withEnvironment({ POSTGRES_USER: 'weir', POSTGRES_PASSWORD: 'weir', POSTGRES_DB: 'weir', PGPORT: String(port), PG_EXTRA_ARGS: '-c fsync=off -c synchronous_commit=off -c full_page_writes=off' });
  if (official) definition = definition.withCommand(['postgres', '-c', `port=${port}`, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off']);
  const container = await definition
    // The official image starts a temporary server during initialisation, so it says "ready" twice.
    .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, official ? 2 : 1))
    .withStartupTimeout(120_000)
    .start();
  return { url: `postgresql://weir:weir@127.0.0.1:${port}/weir`, source: image, outage: outageControl(container, /database system is ready to accept connections/), stop: stopper(container) };
}
