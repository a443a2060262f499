import { existsSync, readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { SchemaDocReader, type DocNode } from './schema-docs';

/** The repository root. */
export const ROOT = resolve(__dirname, '..', '..');
/** The generated file, relative to the root. */
export const CONFIG_REFERENCE_FILE = 'docs/operations/configuration.md';

/** A zod schema as far as this walker looks at it: its `_zod.def`. */
interface ZodLike {
  _zod: { def: Def };
}
interface Def {
  type: string;
  innerType?: ZodLike;
  defaultValue?: unknown;
  in?: ZodLike;
  out?: ZodLike;
  transform?: (value: unknown, ctx: unknown) => unknown;
  options?: ZodLike[];
  discriminator?: string;
  shape?: Record<string, ZodLike>;
  element?: ZodLike;
  keyType?: ZodLike;
  valueType?: ZodLike;
  entries?: Record<string, string | number>;
  values?: unknown[];
  checks?: { _zod: { def: CheckDef } }[];
  format?: string;
  coerce?: boolean;
}
interface CheckDef {
  check: string;
  value?: number;
  inclusive?: boolean;
  minimum?: number;
  maximum?: number;
  length?: number;
  format?: string;
  pattern?: RegExp;
}

/** One setting of a service. */
export interface SettingRow {
  /** Dotted key path; `[]` is any item of a list, `<name>` any key of a map. */
  path: string;
  /** The environment variable, or undefined when the setting can only be given in the file. */
  env?: string;
  /** Why there is no environment variable. */
  envNote?: string;
  type: string;
  /** The default, rendered; undefined for none. */
  default?: string;
  /** The default as the schema holds it. */
  defaultValue?: unknown;
  constraints: string[];
  /** `yes`, `no`, `yes (in each item)` or `yes, if <section> is given`. */
  required: string;
  description: string;
}

/** The settings of one program, in schema order. */
export interface ServiceReference {
  /** Folder name (`opcua-connector`) or `migrate` for the migration command. */
  name: string;
  /** Source file of the schema, relative to the root. */
  schemaFile: string;
  schemaName: string;
  /** File whose `loadConfig` (or `runService`) call loads it, relative to the root. */
  loadedIn: string;
  rows: SettingRow[];
  /** Checks of the settings as a whole (`.refine` messages of the schema). */
  checks: string[];
  /** Settings without a description (reported, not fatal). */
  undocumented: string[];
}

const ENV_PREFIX = 'WEIR_';
/** As libs/config `loadConfig` turns a variable's segment into a key: `CLIENT_ID` -> `clientId`. */
export function envSegmentToKey(segment: string): string {
  return segment.toLowerCase().replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}
/** The inverse: `clientId` -> `CLIENT_ID`. */
export function keyToEnvSegment(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

const HUMAN_UNITS: [number, string][] = [
  [86_400_000, 'd'],
  [3_600_000, 'h'],
  [60_000, 'm'],
  [1000, 's'],
];
function humanDuration(ms: number): string {
  for (const [size, unit] of HUMAN_UNITS) if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}

const code = (text: string) => (text.includes('`') ? `\`\` ${text} \`\`` : `\`${text}\``);

interface Context {
  path: string[];
  /** Env segments, or undefined when no variable reaches this key. */
  env?: string[];
  envNote?: string;
  doc?: DocNode;
  /** The first optional section above this key. */
  optionalAncestor?: string;
  inItem: boolean;
  /** `when type = opcua` for keys of one variant of a discriminated union. */
  variant?: string;
  /** The default of the enclosing section, used when the section is absent altogether. */
  sectionDefault?: { path: string; value: Record<string, unknown> };
}

/** What is known of a schema after its wrappers (optional, default, pipes) are taken off. */
interface Unwrapped {
  core: ZodLike;
  optional: boolean;
  defaultValue?: unknown;
  hasDefault: boolean;
  /** `.prefault(...)`: the section is filled from its own keys' defaults when absent. */
  prefault: boolean;
  duration: boolean;
  /** How a preprocess step reads a string: split on commas, or parsed as JSON. */
  fromString?: 'list' | 'json' | 'other';
}

const def = (s: ZodLike): Def => s._zod.def;

function isDurationPipe(s: ZodLike): boolean {
  const d = def(s);
  if (d.type !== 'pipe' || !d.in || !d.out || def(d.out).type !== 'transform') return false;
  const input = def(d.in);
  return input.type === 'union' && (input.options ?? []).map((o) => def(o).type).sort().join(',') === 'number,string';
}

function probePreprocess(transform: Def['transform']): Unwrapped['fromString'] {
  if (!transform) return 'other';
  const ctx = { issues: [], addIssue: () => undefined, value: undefined };
  try {
    const listed = transform('a, b', ctx);
    if (Array.isArray(listed) && listed.length === 2 && listed[1] === 'b') return 'list';
    const parsed = transform('[1]', ctx);
    if (Array.isArray(parsed) && parsed[0] === 1) return 'json';
  } catch {
    return 'other';
  }
  return 'other';
}

function unwrap(schema: ZodLike): Unwrapped {
  const out: Unwrapped = { core: schema, optional: false, hasDefault: false, prefault: false, duration: false };
  for (;;) {
    const d = def(out.core);
    if ((d.type === 'optional' || d.type === 'nullable') && d.innerType) {
      out.optional = true;
      out.core = d.innerType;
    } else if ((d.type === 'default' || d.type === 'prefault') && d.innerType) {
      if (!out.hasDefault && d.type === 'default') {
        out.defaultValue = d.defaultValue;
        out.hasDefault = true;
      }
      if (d.type === 'prefault') out.prefault = true;
      out.optional = true;
      out.core = d.innerType;
    } else if (d.type === 'pipe' && d.in && d.out) {
      if (isDurationPipe(out.core)) {
        out.duration = true;
        return out;
      }
      if (def(d.in).type === 'transform') {
        out.fromString ??= probePreprocess(def(d.in).transform);
        out.core = d.out;
      } else out.core = d.in;
    } else return out;
  }
}

function isBoolUnion(s: ZodLike): boolean {
  const d = def(s);
  if (d.type !== 'union' || !d.options || d.options.length !== 2) return false;
  const [a, b] = d.options.map(def);
  return a?.type === 'boolean' && b?.type === 'pipe' && def(b.in!).type === 'enum';
}

function numberConstraints(d: Def): { int: boolean; constraints: string[] } {
  let int = false;
  const constraints: string[] = [];
  for (const c of d.checks ?? []) {
    const cd = c._zod.def;
    if (cd.check === 'number_format' && (cd.format === 'safeint' || cd.format === 'int32')) int = true;
    if (cd.check === 'greater_than' && cd.value !== undefined && Math.abs(cd.value) < Number.MAX_SAFE_INTEGER) constraints.push(`${cd.inclusive ? '≥' : '>'} ${cd.value}`);
    if (cd.check === 'less_than' && cd.value !== undefined && Math.abs(cd.value) < Number.MAX_SAFE_INTEGER) constraints.push(`${cd.inclusive ? '≤' : '<'} ${cd.value}`);
  }
  return { int, constraints };
}

function stringConstraints(d: Def): string[] {
  const constraints: string[] = [];
  for (const c of d.checks ?? []) {
    const cd = c._zod.def;
    if (cd.check === 'min_length' && cd.minimum !== undefined && cd.minimum > 0) constraints.push(cd.minimum === 1 ? 'not empty' : `at least ${cd.minimum} characters`);
    if (cd.check === 'max_length' && cd.maximum !== undefined) constraints.push(`at most ${cd.maximum} characters`);
    if (cd.check === 'length_equals' && cd.length !== undefined) constraints.push(`exactly ${cd.length} characters`);
    if (cd.check === 'string_format' && cd.format === 'regex' && cd.pattern) constraints.push(`matches ${code(`/${cd.pattern.source}/`)}`);
    if (cd.check === 'custom') constraints.push('further validated');
  }
  if (d.format && d.format !== 'regex') constraints.push(`${d.format} format`);
  return [...new Set(constraints)];
}

/** A short name of a value type, for list items and map values. */
function typeName(schema: ZodLike): string {
  const u = unwrap(schema);
  if (u.duration) return 'duration';
  if (isBoolUnion(u.core)) return 'boolean';
  const d = def(u.core);
  switch (d.type) {
    case 'number':
      return numberConstraints(d).int ? 'integer' : 'number';
    case 'enum':
      return `one of ${Object.values(d.entries ?? {}).map((v) => code(String(v))).join(', ')}`;
    case 'literal':
      return (d.values ?? []).map((v) => code(String(v))).join(', ');
    case 'object':
      return 'object';
    case 'union':
      return d.discriminator ? `object (by ${code(d.discriminator)})` : (d.options ?? []).map(typeName).join(' or ');
    case 'array':
      return `list of ${d.element ? typeName(d.element) : 'values'}`;
    case 'record':
      return 'map';
    default:
      return d.type;
  }
}

function renderDefault(value: unknown, duration: boolean): string {
  if (duration && typeof value === 'number') return `${code(String(value))} (${humanDuration(value)})`;
  if (typeof value === 'string') return value === '' ? '`""` (empty)' : code(value);
  return code(JSON.stringify(value));
}

function describe(ctx: Context): string {
  return ctx.doc?.description ?? '';
}

function envName(ctx: Context): string | undefined {
  return ctx.env ? `${ENV_PREFIX}${ctx.env.join('__')}` : undefined;
}

function required(u: Unwrapped, ctx: Context): string {
  if (u.optional) return 'no';
  if (ctx.optionalAncestor) return `yes, if ${code(ctx.optionalAncestor)} is given`;
  return ctx.inItem ? 'yes (in each item)' : 'yes';
}

class Walker {
  readonly rows: SettingRow[] = [];

  walk(schema: ZodLike, ctx: Context): void {
    const u = unwrap(schema);
    const d = def(u.core);
    const row = (type: string, constraints: string[] = []): SettingRow => {
      const env = envName(ctx);
      const r: SettingRow = {
        path: ctx.path.join('.').replace(/\.\[\]/g, '[]'),
        ...(env ? { env } : { envNote: ctx.envNote ?? 'file only' }),
        type,
        constraints: ctx.variant ? [ctx.variant, ...constraints] : constraints,
        required: required(u, ctx),
        description: describe(ctx),
      };
      if (u.hasDefault && d.type !== 'object') {
        r.default = renderDefault(u.defaultValue, u.duration);
        r.defaultValue = u.defaultValue;
      }
      // A section's own default wins when the section is left out entirely; say so where it differs.
      const key = ctx.path[ctx.path.length - 1];
      const whole = ctx.sectionDefault && key !== undefined ? ctx.sectionDefault.value[key] : undefined;
      if (ctx.sectionDefault && whole !== undefined && JSON.stringify(whole) !== JSON.stringify(u.defaultValue)) {
        r.default = `${renderDefault(whole, u.duration)} when \`${ctx.sectionDefault.path}\` is absent, else ${r.default ?? 'none'}`;
      }
      this.rows.push(r);
      return r;
    };
    const sub = (key: string, extra: Partial<Context> = {}): Context => {
      const doc = ctx.doc?.children.get(key);
      // The nearest section that may be left out and has no default of its own: its required keys are required only with it.
      const sectionOptional = u.optional && !u.hasDefault && !u.prefault && (d.type === 'object' || d.type === 'union');
      const optionalAncestor = key === '[]' || key === '*' ? undefined : sectionOptional ? ctx.path.join('.').replace(/\.\[\]/g, '[]') : ctx.optionalAncestor;
      return {
        path: [...ctx.path, key],
        ...(ctx.env ? { env: [...ctx.env, key === '*' ? '<NAME>' : keyToEnvSegment(key)] } : {}),
        ...(ctx.envNote ? { envNote: ctx.envNote } : {}),
        ...(doc ? { doc } : {}),
        ...(optionalAncestor ? { optionalAncestor } : {}),
        inItem: ctx.inItem,
        ...(ctx.variant ? { variant: ctx.variant } : {}),
        ...extra,
        sectionDefault: undefined,
      };
    };

    if (u.duration) {
      row('duration (ms)', ['a number of ms, or `500ms`, `30s`, `5m`, `1h`, `7d`']);
      return;
    }
    if (isBoolUnion(u.core)) {
      row('boolean', ['`true`/`false`; from the environment also `1`/`0`, `yes`/`no`']);
      return;
    }
    switch (d.type) {
      case 'object': {
        if (ctx.path.length > 0) {
          const r = row('section');
          if (r.env) r.env = `${r.env}__*`;
        }
        const sectionDefault =
          u.hasDefault && u.defaultValue !== null && typeof u.defaultValue === 'object' && ctx.path.length > 0 ? { path: ctx.path.join('.'), value: u.defaultValue as Record<string, unknown> } : undefined;
        for (const [key, child] of Object.entries(d.shape ?? {})) {
          const childCtx: Context = { ...sub(key), ...(sectionDefault ? { sectionDefault } : {}) };
          // A key the loader cannot reach from a variable name (it lower-cases and camel-cases each level).
          if (!/^[a-z][a-zA-Z0-9]*$/.test(key) || envSegmentToKey(keyToEnvSegment(key)) !== key) {
            delete childCtx.env;
            childCtx.envNote = 'no variable spells this key';
          }
          this.walk(child, childCtx);
        }
        return;
      }
      case 'union': {
        const objects = (d.options ?? []).filter((o) => def(unwrap(o).core).type === 'object');
        if (d.discriminator && objects.length === (d.options ?? []).length) {
          this.walkVariants(d, ctx, row, sub);
          return;
        }
        row((d.options ?? []).map(typeName).join(' or '));
        for (const option of objects) {
          for (const [key, child] of Object.entries(def(unwrap(option).core).shape ?? {})) this.walk(child, sub(key, { variant: 'when an object' }));
        }
        return;
      }
      case 'array': {
        const element = d.element!;
        const elementCore = def(unwrap(element).core);
        const structured = elementCore.type === 'object' || elementCore.type === 'union';
        const constraints = (d.checks ?? []).flatMap((c) => (c._zod.def.check === 'min_length' && c._zod.def.minimum ? [`at least ${c._zod.def.minimum} item(s)`] : []));
        if (u.fromString === 'list' && ctx.env) {
          row(`list of ${typeName(element)}`, ['comma-separated in the environment', ...constraints]);
        } else if (u.fromString === 'json' && ctx.env) {
          row(`list of ${typeName(element)}`, ['a JSON array in the environment', ...constraints]);
        } else {
          const r = row(`list of ${typeName(element)}`, constraints);
          if (r.env) {
            delete r.env;
            r.envNote = 'file only';
          }
        }
        if (structured) {
          const item: Context = { ...sub('[]'), envNote: u.fromString === 'json' ? 'inside the JSON value' : 'file only', inItem: true };
          delete item.env;
          this.walkItem(element, item);
        }
        return;
      }
      case 'record': {
        const valueType = d.valueType!;
        const valueCore = def(unwrap(valueType).core);
        const r = row(`map of name to ${typeName(valueType)}`, ['names from the environment are lower-cased, `_x` becoming `X`']);
        if (r.env) r.env = `${r.env}__<NAME>`;
        if (valueCore.type === 'object') {
          const item = sub('*');
          item.path = [...ctx.path, '<name>'];
          this.walk(valueType, { ...item, inItem: true });
          // The item row duplicates the map row.
          const duplicate = this.rows.findIndex((x) => x.path === item.path.join('.') && x.type === 'section');
          if (duplicate >= 0) this.rows.splice(duplicate, 1);
        }
        return;
      }
      case 'number': {
        const n = numberConstraints(d);
        row(n.int ? 'integer' : 'number', n.constraints);
        return;
      }
      case 'string':
        row('string', stringConstraints(d));
        return;
      case 'boolean':
        row('boolean');
        return;
      case 'enum':
        row('enum', [`one of ${Object.values(d.entries ?? {}).map((v) => code(String(v))).join(', ')}`]);
        return;
      case 'literal':
        row('literal', [`exactly ${(d.values ?? []).map((v) => code(String(v))).join(', ')}`]);
        return;
      default:
        row(d.type);
    }
  }

  private walkItem(element: ZodLike, ctx: Context): void {
    const core = def(unwrap(element).core);
    if (core.type === 'object' || core.type === 'union') {
      const before = this.rows.length;
      this.walk(element, ctx);
      // An item's own row would repeat the list's.
      if (this.rows[before]?.path === ctx.path.join('.').replace(/\.\[\]/g, '[]') && this.rows[before]?.type === 'section') this.rows.splice(before, 1);
    }
  }

  private walkVariants(d: Def, ctx: Context, row: (type: string, constraints?: string[]) => SettingRow, sub: (key: string, extra?: Partial<Context>) => Context): void {
    const disc = d.discriminator!;
    const variants = (d.options ?? []).map((o) => {
      const shape = def(unwrap(o).core).shape ?? {};
      const tag = shape[disc] ? (def(unwrap(shape[disc]).core).values ?? []).map(String) : [];
      return { shape, tag: tag.join(', ') };
    });
    if (ctx.path.length > 0 && ctx.path[ctx.path.length - 1] !== '[]') {
      const r = row(`one of ${variants.length} kinds, by ${code(disc)}`);
      if (r.env) r.env = `${r.env}__*`;
    }
    // Each key once, with the kinds it belongs to; a key whose schema differs between kinds
    // (a `sources[].auth` of each type) is listed once per group of kinds that share it.
    const byKey = new Map<string, { schema: ZodLike; tag: string }[]>();
    for (const v of variants) {
      for (const [key, schema] of Object.entries(v.shape)) byKey.set(key, [...(byKey.get(key) ?? []), { schema, tag: v.tag }]);
    }
    const allTags = variants.map((v) => v.tag);
    const discPath = [...ctx.path, disc].join('.').replace(/\.\[\]/g, '[]');
    for (const [key, entries] of byKey) {
      if (key === disc) {
        const c = sub(key);
        const env = envName(c);
        this.rows.push({
          path: c.path.join('.').replace(/\.\[\]/g, '[]'),
          ...(env ? { env } : { envNote: c.envNote ?? 'file only' }),
          type: 'enum',
          constraints: [`one of ${allTags.map((t) => code(t)).join(', ')}`],
          required: c.optionalAncestor ? `yes, if ${code(c.optionalAncestor)} is given` : c.inItem ? 'yes (in each item)' : 'yes',
          description: c.doc?.description ?? `Which kind of ${ctx.path.filter((p) => p !== '[]').pop() ?? 'setting'} this is; the keys below depend on it.`,
        });
        continue;
      }
      const groups: { signature: string; rows: SettingRow[]; tags: string[] }[] = [];
      for (const entry of entries) {
        const walker = new Walker();
        walker.walk(entry.schema, sub(key));
        const signature = JSON.stringify(walker.rows);
        const group = groups.find((g) => g.signature === signature);
        if (group) group.tags.push(entry.tag);
        else groups.push({ signature, rows: walker.rows, tags: [entry.tag] });
      }
      for (const group of groups) {
        const note = group.tags.length === allTags.length ? undefined : `only when ${code(discPath)} is ${group.tags.map((t) => code(t)).join(' or ')}`;
        for (const r of group.rows) this.rows.push(note ? { ...r, constraints: [note, ...r.constraints] } : r);
      }
    }
  }
}

/** Every program that loads settings: each service's `main.ts` and the migrate command. */
export function settingsEntryPoints(root = ROOT): string[] {
  const services = readdirSync(join(root, 'services'))
    .sort()
    .map((name) => join(root, 'services', name, 'src', 'main.ts'))
    .filter((file) => existsSync(file));
  return [...services, join(root, 'libs', 'timescale', 'src', 'cli', 'migrate.ts')];
}

/** Builds the reference of every program's settings: descriptions from the sources, the rest from the schemas at run time. */
export async function buildConfigReference(root = ROOT): Promise<ServiceReference[]> {
  const reader = new SchemaDocReader(root);
  const out: ServiceReference[] = [];
  for (const entry of settingsEntryPoints(root)) {
    const loaded = reader.loadedSchema(entry);
    if (!loaded) continue;
    const mod = (await import(loaded.file)) as Record<string, unknown>;
    const schema = mod[loaded.name] as ZodLike | undefined;
    if (!schema?._zod) throw new Error(`${loaded.name} from ${loaded.file} is not a zod schema`);
    const doc = reader.read(loaded.file, loaded.name);
    const walker = new Walker();
    walker.walk(schema, { path: [], env: [], doc, inItem: false });
    const rel = (p: string) => relative(root, p).split('\\').join('/');
    const name = entry.includes(`${join('libs', 'timescale')}`) ? 'migrate' : rel(entry).split('/')[1]!;
    out.push({
      name,
      schemaFile: rel(loaded.file),
      schemaName: loaded.name,
      loadedIn: rel(entry),
      rows: walker.rows,
      checks: doc.checks ?? [],
      undocumented: walker.rows.filter((r) => r.description === '' && r.type !== 'section').map((r) => r.path),
    });
  }
  return out;
}

const INTRO = `# Configuration reference

<!-- Generated by tools/docs/generate-config-reference.ts from the settings schemas; do not edit by hand.
     Regenerate with \`npx tsx tools/docs/generate-config-reference.ts\`; \`--check\` fails when this file is stale. -->

Every Weir program validates its settings at start-up with \`loadConfig\` from \`libs/config\` and
refuses to start on any problem, listing every bad key with where it came from.

## How settings are given

Lowest precedence first:

1. the defaults below;
2. a YAML or JSON file (JSON when the name ends in \`.json\`) named by the variable \`WEIR_CONFIG_FILE\`;
3. environment variables \`WEIR_<KEY>\`, which win over the file.

A key path maps to a variable by joining its levels with \`__\` and writing each level in upper snake case:
\`kafka.clientId\` is \`WEIR_KAFKA__CLIENT_ID\`, \`opcua.maxPendingSamples\` is
\`WEIR_OPCUA__MAX_PENDING_SAMPLES\`. The loader turns each level back by lower-casing it and
replacing \`_x\` with \`X\`, so keys of maps given in the environment (\`WEIR_SAP__TIME_ZONE_BY_PLANT__1710\`,
\`WEIR_API__AUTH__API_KEYS__GRAFANA__ROLE\`) arrive lower-cased (\`grafana\`), and a \`_\` in them turns the
next character to upper case (\`TELEMETRY_OTHER\` becomes \`telemetryOther\`): map keys that contain \`_\`,
such as the hypertable names under \`sink.retention.dropAfter\`, can only be given in the file.

Values from the environment are strings and are converted: numbers and ports are parsed, booleans
accept \`true\`/\`false\`, \`1\`/\`0\` and \`yes\`/\`no\`, lists are split on commas, durations accept
\`500ms\`, \`30s\`, \`5m\`, \`1h\`, \`7d\` or a number of milliseconds, and the settings marked
"a JSON array in the environment" are parsed as JSON. Lists of structured items (sources, jobs,
shift sites) can only be given in the file.

A key in the file that is not a setting is an error. A \`WEIR_*\` variable that matches no setting of the
program is not an error (several programs share one environment): each service logs such variables as
\`unusedEnv\` in its first log line (\`starting <service>\`), next to its settings (and the settings file read)
with secrets (keys such as \`password\`, \`token\`, \`jwtSecret\`, \`apiKeys\`, and URL passwords) redacted.
A bad setting stops a service before it opens anything: every problem is printed with its key and where
it came from, and the process exits with code 2. A failure to start (a broker or database that cannot be
reached) is logged as fatal, what had started is stopped, and the process exits with code 1.

In the tables, \`[]\` stands for any item of a list and \`<name>\` for any key of a map;
"Required: yes, if \`x\` is given" means the section \`x\` is optional but, once present, needs the key;
"yes (in each item)" means every list item or map entry needs it. A default "when \`x\` is absent" is the
one the section \`x\` gets when none of its keys is given; once one is, the other keys take their own defaults.
`;

function renderRow(r: SettingRow): string {
  const env = r.env ? code(r.env) : `— (${r.envNote ?? 'file only'})`;
  const cells = [code(r.path), env, r.type, r.default ?? '', r.constraints.join('; '), r.required, r.description];
  // A pipe, even in a code span, ends a table cell unless escaped.
  return `| ${cells.map((c) => c.replace(/\n/g, ' ').replace(/\|/g, '\\|')).join(' | ')} |`;
}

/** The Markdown reference. */
export function renderConfigReference(refs: readonly ServiceReference[]): string {
  const parts: string[] = [INTRO];
  parts.push('## Programs\n');
  for (const ref of refs) parts.push(`- [${ref.name}](#${ref.name})`);
  parts.push('');
  for (const ref of refs) {
    parts.push(`## ${ref.name}\n`);
    const what = ref.name === 'migrate' ? 'The migration command (`npm run migrate`).' : `Service \`services/${ref.name}\`.`;
    parts.push(`${what} Schema \`${ref.schemaName}\` in \`${ref.schemaFile}\`, loaded in \`${ref.loadedIn}\`.\n`);
    const flat = ref.rows.some((r) => r.path === 'opsPort');
    const nested = ref.rows.some((r) => r.path === 'observability.opsPort');
    if (flat) parts.push('Logging and the ops (health/metrics) server are top-level keys here (`logLevel`, `opsHost`, `opsPort`; `WEIR_LOG_LEVEL`, ...).\n');
    if (nested) parts.push('Logging and the ops (health/metrics) server are under `observability` here (`WEIR_OBSERVABILITY__LOG_LEVEL`, ...).\n');
    for (const check of ref.checks) parts.push(`The settings as a whole must also satisfy: ${check}.\n`);
    parts.push('| Key | Environment variable | Type | Default | Constraints | Required | Description |');
    parts.push('| --- | --- | --- | --- | --- | --- | --- |');
    for (const r of ref.rows) parts.push(renderRow(r));
    parts.push('');
  }
  return `${parts.join('\n').trimEnd()}\n`;
}

/** The reference as it should be committed. */
export async function generateConfigReference(root = ROOT): Promise<string> {
  return renderConfigReference(await buildConfigReference(root));
}
