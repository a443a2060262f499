import { readdirSync, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

// Tests import libs by their package name; point those at the sources so no
// build step is needed before a test run. Services that export a test fixture
// (the plant simulator) resolve the same way; production code may not import
// a service (ESLint module boundaries), tests may.
const sourceEntries = (dir: string) =>
  readdirSync(resolve(import.meta.dirname, dir))
    .filter((name) => existsSync(resolve(import.meta.dirname, dir, name, 'src/index.ts')))
    .map((name) => [`@weir/${name}`, resolve(import.meta.dirname, dir, name, 'src/index.ts')] as const);
const alias = Object.fromEntries([...sourceEntries('libs'), ...(existsSync(resolve(import.meta.dirname, 'services')) ? sourceEntries('services') : [])]);

// SWC keeps decorator metadata, which NestJS dependency injection needs.
const plugins = [swc.vite({ jsc: { target: 'es2022', parser: { syntax: 'typescript', decorators: true }, transform: { legacyDecorator: true, decoratorMetadata: true } } })];

export default defineConfig({
  plugins,
  resolve: { alias },
  test: {
    reporters: ['default', resolve(import.meta.dirname, 'tools/vitest/summary-reporter.mts')],
    projects: [
      {
        plugins,
        resolve: { alias },
        test: {
          name: 'unit',
          include: ['libs/*/src/**/*.spec.ts', 'services/*/src/**/*.spec.ts', 'tools/**/*.spec.ts'],
          // tools/**/*.int.spec.ts need Docker or built tools: they belong to `int`.
          exclude: ['tools/**/*.int.spec.ts', '**/node_modules/**'],
          environment: 'node',
        },
      },
      {
        plugins,
        resolve: { alias },
        test: {
          name: 'int',
          include: ['libs/*/test/**/*.int.spec.ts', 'services/*/test/**/*.int.spec.ts', 'tools/**/*.int.spec.ts'],
          environment: 'node',
          // One stack (Kafka + TimescaleDB) for the whole run; see libs/testing.
          globalSetup: [resolve(import.meta.dirname, 'libs/testing/src/global-setup.ts')],
          testTimeout: 180_000,
          hookTimeout: 300_000,
          // The stack is shared; files run one at a time so one test's load does not skew another's.
          fileParallelism: false,
          pool: 'forks',
        },
      },
    ],
  },
});
