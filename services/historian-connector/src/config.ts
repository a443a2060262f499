import { join } from 'node:path';
import { fields } from '@weir/config';
import { sourceId } from '@weir/contracts';
import { kafkaSettingsSchema } from '@weir/kafka';
import { observabilitySettingsSchema } from '@weir/observability';
import { nodeIdText, SECURITY_MODES, SECURITY_POLICIES } from '@weir/opcua';
import { z } from 'zod';

// A source's id is the `sourceId` of its samples: the contract's rule.
const sourceIdText = sourceId;

const regexText = fields.regex();

const instant = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const ms = typeof v === 'number' ? v : Date.parse(v);
  if (!Number.isFinite(ms)) {
    ctx.addIssue({ code: 'custom', message: `"${String(v)}" is not an instant (use ISO 8601 with an offset, e.g. 2026-01-01T00:00:00Z, or ms since 1970)` });
    return z.NEVER;
  }
  return ms;
});

/** How hard a source may be read: a token bucket of requests and one of values, shared by its live reads and its jobs. */
const rateLimitSchema = z
  .object({
    /** Most calls (HistoryRead, HTTP GET) per second; 0 = unlimited. */
    requestsPerSecond: z.coerce.number().nonnegative().default(20),
    /** Most values per second read from the historian; 0 = unlimited. */
    valuesPerSecond: z.coerce.number().nonnegative().default(0),
  })
  .prefault({});

/** Live reading: polls the historian for what arrived since the last read. */
const liveSchema = z
  .object({
    /** Read new data continuously; off = only jobs. */
    enabled: fields.bool().default(true),
    /** Time between polls. */
    pollInterval: fields.durationMs().default(10_000),
    /** Only data older than this is read, so values the historian still receives late are not skipped. */
    delay: fields.durationMs().default(5_000),
    /** On the very first start, how far back live reading begins (older data is for a job). */
    initialLookback: fields.durationMs().default(0),
  })
  .prefault({});

const commonSource = {
  /** Source id samples carry; it keys the sequence numbers and checkpoints, so never rename a source. */
  id: sourceIdText,
  live: liveSchema,
  rateLimit: rateLimitSchema,
};

/** An OPC UA server with Historical Access. */
export const opcuaSourceSchema = z
  .object({
    ...commonSource,
    type: z.literal('opcua'),
    endpointUrl: z.string().regex(/^opc\.tcp:\/\/[^/\s]+/, 'must be an opc.tcp:// URL'),
    securityMode: z.enum(SECURITY_MODES).default('SignAndEncrypt'),
    securityPolicy: z.enum(SECURITY_POLICIES).default('Basic256Sha256'),
    auth: z
      .discriminatedUnion('type', [z.object({ type: z.literal('anonymous') }), z.object({ type: z.literal('username'), username: z.string().min(1), password: z.string() })])
      .default({ type: 'anonymous' }),
    /** Nodes whose history to read (NodeId strings, `nsu=` recommended). */
    nodes: z.array(nodeIdText).default([]),
    /** Subtrees whose variables are read (browsed at connect). */
    browse: z
      .array(
        z.object({
          root: nodeIdText,
          maxDepth: fields.int({ min: 1, max: 50 }).default(10),
          include: regexText.optional(),
          exclude: regexText.optional(),
        }),
      )
      .default([]),
    /** Nodes per HistoryRead call (the server's MaxNodesPerHistoryReadData caps it further). */
    nodesPerCall: fields.int({ min: 1, max: 10_000 }).default(50),
    /** Values per node and answer; more come through continuation points. One answer is the unit of memory. */
    valuesPerNode: fields.int({ min: 1, max: 1_000_000 }).default(10_000),
    /** Longest time range of one read; longer ranges are read window by window. */
    window: fields.durationMs().default(24 * 3_600_000),
  })
  .superRefine((s, ctx) => {
    if ((s.securityMode === 'None') !== (s.securityPolicy === 'None')) ctx.addIssue({ code: 'custom', path: ['securityPolicy'], message: `security mode ${s.securityMode} cannot be used with policy ${s.securityPolicy}` });
    if (s.nodes.length === 0 && s.browse.length === 0) ctx.addIssue({ code: 'custom', path: ['nodes'], message: 'give nodes or browse (or both)' });
  });

/** AVEVA PI Web API. */
export const piSourceSchema = z
  .object({
    ...commonSource,
    type: z.literal('piwebapi'),
    /** Base URL of PI Web API, e.g. `https://pi.example/piwebapi`. */
    baseUrl: fields.url(['http', 'https']),
    /** Data server (Data Archive) by name; the first one when neither name nor webId is given. */
    dataServer: z.string().min(1).optional(),
    /** Data server by WebId (skips the lookup by name). */
    dataServerWebId: z.string().min(1).optional(),
    /** Point discovery: PI's `nameFilter` (`*` and `?` wildcards). Points matching it are read. */
    nameFilter: z.string().min(1).optional(),
    /** Points by exact name, in addition to `nameFilter`. */
    points: z.array(z.string().min(1)).default([]),
    auth: z
      .discriminatedUnion('type', [
        z.object({ type: z.literal('none') }),
        z.object({ type: z.literal('basic'), username: z.string().min(1), password: z.string() }),
        z.object({ type: z.literal('bearer'), token: z.string().min(1) }),
      ])
      .default({ type: 'none' }),
    tls: z
      .object({
        /** PEM file of the CA that signed PI Web API's certificate (in addition to the system CAs). */
        ca: z.string().min(1).optional(),
        /** Check the server certificate; `false` only in a lab. */
        rejectUnauthorized: fields.bool().default(true),
      })
      .prefault({}),
    /** `maxCount` of one recorded-values request (values per stream); more are read page by page. */
    maxCount: fields.int({ min: 1, max: 1_000_000 }).default(10_000),
    /** Points per `streamsets/recorded` request. */
    streamSetSize: fields.int({ min: 1, max: 1000 }).default(50),
    /** Longest time range of one request; longer ranges are read window by window. */
    window: fields.durationMs().default(24 * 3_600_000),
    /** Give up a request after this long. */
    requestTimeout: fields.durationMs().default(30_000),
  })
  .superRefine((s, ctx) => {
    if (!s.nameFilter && s.points.length === 0) ctx.addIssue({ code: 'custom', path: ['nameFilter'], message: 'give nameFilter or points (or both)' });
  });

/** A watched folder of CSV/TSV exports. */
export const csvSourceSchema = z
  .object({
    id: sourceIdText,
    type: z.literal('csv'),
    /** Drop folder; new files are picked up while running. */
    dir: z.string().min(1),
    /** Files to read (regular expression on the file name); `.gz` files are gunzipped. */
    include: regexText.default('\\.(csv|tsv|txt)(\\.gz)?$'),
    /** `tall`: one row per value (tag, time, value, quality); `wide`: time plus one column per tag. */
    layout: z.enum(['tall', 'wide']).default('tall'),
    /** Field separator; `auto` = tab for `.tsv` files, else comma. */
    delimiter: z.enum(['auto', ',', ';', '\t', '|']).default('auto'),
    columns: z
      .object({
        tag: z.string().min(1).default('tag'),
        time: z.string().min(1).default('time'),
        value: z.string().min(1).default('value'),
        /** Optional in the file; missing = Good. */
        quality: z.string().min(1).default('quality'),
      })
      .prefault({}),
    /** Wide layout: a column `<tag><qualitySuffix>` holds the quality of `<tag>`. */
    qualitySuffix: z.string().min(1).default('.quality'),
    /** `iso` (offset optional), `epoch-s`, `epoch-ms`, or a pattern of YYYY MM DD HH mm ss and SSS (fraction), e.g. `DD.MM.YYYY HH:mm:ss`. */
    timeFormat: z.string().min(1).default('iso'),
    /** IANA time zone of times written without an offset (`Europe/Berlin`); `UTC` by default. */
    timeZone: z.string().min(1).default('UTC'),
    /** Decimal separator of numbers. */
    decimalSeparator: z.enum(['.', ',']).default('.'),
    /** Thousands separator of numbers (removed before parsing); empty = none. */
    thousandsSeparator: z.enum(['', ',', '.', ' ', "'"]).default(''),
    /** `number`: a value must be a number (else the row is bad); `auto`: numbers, `true`/`false`, else text. */
    valueType: z.enum(['number', 'auto']).default('number'),
    /** Quality texts or numbers to OPC UA StatusCodes, in addition to the built-in mapping (see README). */
    qualityMap: z.record(z.string(), z.coerce.number().int().min(0).max(0xffffffff)).default({}),
    /** Put before every tag name to form the sample's nodeId. */
    tagPrefix: z.string().default(''),
    /** How often the folder is looked at. */
    pollInterval: fields.durationMs().default(5_000),
    /** A file is read once its size and modification time have not changed for this long (still being copied otherwise). */
    settleTime: fields.durationMs().default(2_000),
    /** Rows per spool write (one durable checkpoint each). */
    batchRows: fields.int({ min: 1, max: 100_000 }).default(5_000),
    /** Most rows per second; 0 = unlimited. */
    rowsPerSecond: z.coerce.number().nonnegative().default(0),
  })
  .superRefine((s, ctx) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: s.timeZone });
    } catch {
      ctx.addIssue({ code: 'custom', path: ['timeZone'], message: `"${s.timeZone}" is not an IANA time zone` });
    }
    if (s.decimalSeparator === s.thousandsSeparator) ctx.addIssue({ code: 'custom', path: ['thousandsSeparator'], message: 'must differ from decimalSeparator' });
  });

/** Settings of one source, by `type`. */
export const historianSourceSchema = z.discriminatedUnion('type', [opcuaSourceSchema, piSourceSchema, csvSourceSchema]);

/** A backfill of a time range of one source, run as a job with progress. */
export const jobSchema = z
  .object({
    /** Job id; its progress is kept under it, so a finished job is not run again. */
    id: sourceIdText,
    /** The source to read (an OPC UA or PI source). */
    source: sourceIdText,
    /** Start of the range (exclusive). */
    from: instant,
    /** End of the range (inclusive); clamped to where live reading of the source began. */
    to: instant,
  })
  .refine((j) => j.to > j.from, { path: ['to'], message: 'must be after from' });

/**
 * Settings of the historian connector. Environment variables map with `WEIR_`
 * and `__` between levels (`WEIR_KAFKA__BROKERS=k1:9092`); sources and jobs
 * are usually given in the YAML file named by `WEIR_CONFIG_FILE`.
 */
export const historianSettingsSchema = z.object({
  ...observabilitySettingsSchema.shape,
  kafka: kafkaSettingsSchema,
  /** Folder for the spool (store and forward, checkpoints) and the OPC UA client PKI. */
  stateDir: z.string().min(1).default('./.weir/historian-connector'),
  spool: z
    .object({
      /** Spool folder; `<stateDir>/spool` by default. */
      dir: z.string().min(1).optional(),
      /** Most bytes the spool holds while Kafka is away; beyond that reading pauses (nothing is dropped). */
      maxBytes: fields.int({ min: 4 * 1024 * 1024 }).default(1024 * 1024 * 1024),
      /** On shutdown, how long to wait for Kafka to take what is spooled (the rest stays on disk). */
      shutdownFlushTimeout: fields.durationMs().default(10_000),
    })
    .prefault({}),
  opcua: z
    .object({
      applicationUri: z.string().min(1).default('urn:weir:historian-connector'),
      applicationName: z.string().min(1).default('weir-historian-connector'),
      /** Client PKI folder; `<stateDir>/pki` by default. */
      pkiDir: z.string().min(1).optional(),
      /** Server certificates (PEM/DER files) to trust. */
      trustedServerCertificates: fields.list(z.string().min(1)).default([]),
      /** Trust any server certificate (lab only). */
      acceptUnknownServerCertificates: fields.bool().default(false),
      connectTimeout: fields.durationMs().default(10_000),
    })
    .prefault({}),
  /** How often job progress is logged (metrics are always current). */
  progressInterval: fields.durationMs().default(10_000),
  /** First wait after a failed read before trying again; doubles up to 30 s. */
  retryDelay: fields.durationMs().default(1_000),
  sources: z.array(historianSourceSchema).default([]),
  jobs: z.array(jobSchema).default([]),
});

/** Settings as parsed. */
export type HistorianSettings = z.infer<typeof historianSettingsSchema>;
/** Settings as written. */
export type HistorianSettingsInput = z.input<typeof historianSettingsSchema>;
/** One OPC UA source as parsed. */
export type OpcuaSourceSettings = z.infer<typeof opcuaSourceSchema>;
/** One PI Web API source as parsed. */
export type PiSourceSettings = z.infer<typeof piSourceSchema>;
/** One CSV source as parsed. */
export type CsvSourceSettings = z.infer<typeof csvSourceSchema>;
/** One job as parsed. */
export type JobSettings = z.infer<typeof jobSchema>;

/** Folders derived from `stateDir`. */
export function statePaths(settings: HistorianSettings): { spoolDir: string; pkiDir: string } {
  return { spoolDir: settings.spool.dir ?? join(settings.stateDir, 'spool'), pkiDir: settings.opcua.pkiDir ?? join(settings.stateDir, 'pki') };
}

/** Cross-checks the schema cannot do: unique source ids, jobs naming a readable source. Returns problems (empty = fine). */
export function checkSettings(settings: HistorianSettings): string[] {
  const problems: string[] = [];
  const ids = new Map<string, string>();
  settings.sources.forEach((s, i) => {
    if (ids.has(s.id)) problems.push(`sources[${i}].id: "${s.id}" is used twice; every source needs its own id, it keys sequence numbers and checkpoints`);
    ids.set(s.id, s.type);
  });
  const jobIds = new Set<string>();
  settings.jobs.forEach((j, i) => {
    if (jobIds.has(j.id)) problems.push(`jobs[${i}].id: "${j.id}" is used twice`);
    jobIds.add(j.id);
    const type = ids.get(j.source);
    if (!type) problems.push(`jobs[${i}].source: no source "${j.source}"`);
    else if (type === 'csv') problems.push(`jobs[${i}].source: "${j.source}" is a CSV folder; drop the files instead`);
  });
  return problems;
}
