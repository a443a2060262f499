import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { ConfigError, type ConfigIssue } from './config-error';

/** Where settings are read from, lowest precedence first: defaults in the schema, the file, the environment, overrides. */
export interface LoadConfigOptions {
  /** Environment to read; `process.env` by default. Only the service's entry point should pass `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Prefix of the variables that carry settings; `WEIR_` by default. */
  envPrefix?: string;
  /** A YAML or JSON file; by default the one named by `<prefix>CONFIG_FILE`, if any. */
  file?: string;
  /** Values that win over everything (tests, command-line flags). */
  overrides?: Record<string, unknown>;
}

/** The outcome of loading: the typed settings and what was not used. */
export interface LoadedConfig<T> {
  config: T;
  /** Environment variables with the prefix that match no setting of this service (other services' settings, or typos). */
  unusedEnv: string[];
  /** The file read, if any. */
  file?: string;
}

type Tree = Record<string, unknown>;

const isTree = (v: unknown): v is Tree => v !== null && typeof v === 'object' && !Array.isArray(v);

/** `CLIENT_ID` -> `clientId`. */
function envSegmentToKey(segment: string): string {
  return segment.toLowerCase().replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

function setPath(tree: Tree, path: readonly string[], value: unknown): void {
  let node = tree;
  for (const key of path.slice(0, -1)) {
    if (!isTree(node[key])) node[key] = {};
    node = node[key] as Tree;
  }
  node[path[path.length - 1]!] = value;
}

function deepMerge(base: Tree, over: Tree): Tree {
  const out: Tree = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = isTree(v) && isTree(out[k]) ? deepMerge(out[k] as Tree, v) : v;
  return out;
}

/**
 * Loads and validates settings. Environment variables map to nested keys with
 * `__` between levels and snake case turned to camel case:
 * `WEIR_KAFKA__CLIENT_ID=x` sets `kafka.clientId`. Every problem is reported
 * at once, each with its key and, where it came from the environment or the
 * file, the variable or file name.
 */
export function loadConfig<S extends z.ZodType>(schema: S, options: LoadConfigOptions = {}): LoadedConfig<z.infer<S>> {
  const env = options.env ?? {};
  const prefix = options.envPrefix ?? 'WEIR_';
  const file = options.file ?? env[`${prefix}CONFIG_FILE`];
  const origin = new Map<string, string>();
  const issues: ConfigIssue[] = [];

  let fromFile: Tree = {};
  if (file) {
    try {
      const text = readFileSync(file, 'utf8');
      const parsed: unknown = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
      if (parsed !== null && parsed !== undefined && !isTree(parsed)) issues.push({ key: `(file ${file})`, problem: 'must hold a mapping of settings' });
      else fromFile = (parsed as Tree | null) ?? {};
    } catch (err) {
      issues.push({ key: `(file ${file})`, problem: `cannot be read: ${(err as Error).message}` });
    }
    walk(fromFile, [], (path) => origin.set(path.join('.'), `file ${file}`));
  }

  const fromEnv: Tree = {};
  const envPaths = new Map<string, string>();
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(prefix) || value === undefined || name === `${prefix}CONFIG_FILE`) continue;
    const path = name.slice(prefix.length).split('__').filter(Boolean).map(envSegmentToKey);
    if (path.length === 0) continue;
    setPath(fromEnv, path, value);
    origin.set(path.join('.'), `env ${name}`);
    envPaths.set(path.join('.'), name);
  }

  const input = deepMerge(deepMerge(fromFile, fromEnv), options.overrides ?? {});
  const result = schema.safeParse(input);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const key = issue.path.map(String).join('.') || '(root)';
      const from = origin.get(key);
      issues.push({ key: from ? `${key} (from ${from})` : key, problem: issue.message });
    }
  }

  // Keys the schema dropped: a typo in the file is an error; environment variables are shared by
  // several services, so ones this service does not know are only reported back.
  const unusedEnv: string[] = [];
  if (result.success) {
    walkUnknown(input, result.data, [], (path) => {
      const key = path.join('.');
      // An unknown key may hold a whole subtree; attribute each leaf below it to its source.
      for (const [envKey, envName] of envPaths) if (envKey === key || envKey.startsWith(`${key}.`)) unusedEnv.push(envName);
      if (origin.get(key)?.startsWith('file')) issues.push({ key: `${key} (from ${origin.get(key)})`, problem: 'is not a setting of this service' });
    });
  }

  if (issues.length > 0 || !result.success) throw new ConfigError(issues);
  return { config: result.data, unusedEnv, ...(file ? { file } : {}) };
}

function walk(tree: Tree, path: string[], visit: (path: string[]) => void): void {
  for (const [k, v] of Object.entries(tree)) {
    visit([...path, k]);
    if (isTree(v)) walk(v, [...path, k], visit);
  }
}

function walkUnknown(input: unknown, output: unknown, path: string[], report: (path: string[]) => void): void {
  if (!isTree(input) || !isTree(output)) return;
  for (const [k, v] of Object.entries(input)) {
    if (!(k in output)) report([...path, k]);
    else walkUnknown(v, output[k], [...path, k], report);
  }
}
