import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

/** A short random suffix for names that must not collide between tests or runs. */
export function uniqueSuffix(): string {
  return randomBytes(4).toString('hex');
}

/** A topic prefix unique to one test, so tests sharing a broker never see each other's messages. */
export function uniqueTopicPrefix(label = 't'): string {
  return `${label}-${uniqueSuffix()}.`;
}

/** A fresh database on the test server, dropped by `drop()`. */
export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** Creates an empty database on the server of `serverUrl` so a test file starts from nothing. */
export async function createTestDatabase(serverUrl: string, label = 'weir_t'): Promise<TestDatabase> {
  const name = `${label}_${uniqueSuffix()}`;
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: async () => {
      const c = new Client({ connectionString: serverUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(probe: () => Promise<T | undefined> | T | undefined, opts: { timeoutMs?: number; intervalMs?: number; what?: string } = {}): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${opts.timeoutMs ?? 30_000} ms waiting for ${opts.what ?? 'condition'}`);
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 100));
  }
}
