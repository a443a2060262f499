import { join } from 'node:path';
import { fields } from '@weir/config';
import { kafkaSettingsSchema } from '@weir/kafka';
import { observabilitySettingsSchema } from '@weir/observability';
import { loadPublishedNodesFile, nodeOptionsSchema, sourceSettingsSchema, toSourceConfig, applyNodeOptions, PUBLISHED_NODES_DEFAULTS, type SourceConfig } from '@weir/opcua';
import { z } from 'zod';

/**
 * Settings of the OPC UA connector. Environment variables map with `WEIR_`
 * and `__` between levels (`WEIR_OPCUA__PUBLISHED_NODES_FILE=/etc/weir/pn.json`,
 * `WEIR_KAFKA__BROKERS=k1:9092`); sources are usually given in the YAML file
 * named by `WEIR_CONFIG_FILE`.
 */
export const connectorSettingsSchema = z.object({
  ...observabilitySettingsSchema.shape,
  kafka: kafkaSettingsSchema,
  /** Folder for the spool (store and forward) and the client PKI, unless those are set on their own. */
  stateDir: z.string().min(1).default('./.weir/opcua-connector'),
  spool: z
    .object({
      /** Spool folder; `<stateDir>/spool` by default. */
      dir: z.string().min(1).optional(),
      /** Most bytes the spool may hold while Kafka is away; beyond that the subscriptions are slowed (back-pressure), never dropped. */
      maxBytes: fields.int({ min: 1024 * 1024 }).default(1024 * 1024 * 1024),
      /** On shutdown, how long to wait for Kafka to take what is spooled before closing (the rest stays on disk). */
      shutdownFlushTimeout: fields.durationMs().default(10_000),
    })
    .prefault({}),
  opcua: z
    .object({
      /** The connector's ApplicationUri (in its certificate; servers may check it). */
      applicationUri: z.string().min(1).default('urn:weir:opcua-connector'),
      applicationName: z.string().min(1).default('weir-opcua-connector'),
      /** Client PKI folder: own certificate (created on first start), trusted/ and rejected/ server certificates. `<stateDir>/pki` by default. */
      pkiDir: z.string().min(1).optional(),
      /** Server certificates (PEM/DER files) to trust in addition to `<pkiDir>/trusted/certs`. */
      trustedServerCertificates: fields.list(z.string().min(1)).default([]),
      /** Trust any server certificate. Off: an unknown server is refused and its certificate put in `<pkiDir>/rejected`. */
      acceptUnknownServerCertificates: fields.bool().default(false),
      /** Folder of user certificates (`<subject>.pem` + `<subject>.key`) for publishednodes `OpcAuthenticationMode: Certificate`. */
      userCertificateDir: z.string().min(1).optional(),
      /** An OPC Publisher publishednodes.json whose endpoints are read in addition to `sources`. */
      publishedNodesFile: z.string().min(1).optional(),
      /** Overrides of the documented publishednodes defaults (sampling 1 s, queue 1, ...). */
      publishedNodesDefaults: nodeOptionsSchema.default({}),
      /** Most monitored items per CreateMonitoredItems call; the server's MaxMonitoredItemsPerCall caps it further. */
      maxItemsPerCall: fields.int({ min: 1, max: 100_000 }).default(1000),
      /** Most nodes per HistoryRead call; the server's MaxNodesPerHistoryReadData and MaxNodesPerRead cap it further. */
      historyNodesPerCall: fields.int({ min: 1, max: 10_000 }).default(200),
      /** Values per node and HistoryRead answer; more come through continuation points. */
      historyValuesPerNode: fields.int({ min: 1, max: 1_000_000 }).default(10_000),
      /** Read the missed interval back from the server's history after a reconnection or a restart. */
      backfill: fields.bool().default(true),
      /** The longest interval read back; older parts are recorded as gaps. */
      backfillMaxSpan: fields.durationMs().default(24 * 3_600_000),
      /** How far before the last data received a backfill starts: covers values in flight when the link broke and source clocks behind the server's. */
      backfillMargin: fields.durationMs().default(60_000),
      /** First wait before reconnecting; doubles up to `reconnectMaxDelay`. */
      reconnectDelay: fields.durationMs().default(500),
      reconnectMaxDelay: fields.durationMs().default(30_000),
      /** First wait before creating an item the server refused again; doubles up to 10 times as long. */
      itemRetryInterval: fields.durationMs().default(30_000),
      /** Session keep-alive read interval; a missed answer counts as a lost connection. */
      keepAliveInterval: fields.durationMs().default(5000),
      /** Requested session timeout. */
      sessionTimeout: fields.durationMs().default(60_000),
      /** Give up a connection attempt after this long. */
      connectTimeout: fields.durationMs().default(10_000),
      /** Samples accepted from the server but not yet on disk; beyond this the subscriptions stop publishing until the spool catches up. */
      maxPendingSamples: fields.int({ min: 1000 }).default(200_000),
    })
    .prefault({}),
  /** OPC UA endpoints, with nodes, browse rules and event notifiers (see README). */
  sources: z.array(sourceSettingsSchema).default([]),
});
/** Connector settings as parsed. */
export type ConnectorSettings = z.infer<typeof connectorSettingsSchema>;
/** Connector settings as written. */
export type ConnectorSettingsInput = z.input<typeof connectorSettingsSchema>;

/** Folders derived from `stateDir`. */
export function statePaths(settings: ConnectorSettings): { spoolDir: string; pkiDir: string } {
  return { spoolDir: settings.spool.dir ?? join(settings.stateDir, 'spool'), pkiDir: settings.opcua.pkiDir ?? join(settings.stateDir, 'pki') };
}

/**
 * Every source to read: those of `sources` and those of the publishednodes
 * file. Throws `OPCUA.NODESET_INVALID` (from the file) or `OPCUA_CONNECTOR.DUPLICATE_SOURCE`.
 */
export function resolveSources(settings: ConnectorSettings, file?: string): { sources: SourceConfig[]; warnings: string[] } {
  const sources = settings.sources.map((s, i) => toSourceConfig(s, `${file ?? 'settings'} sources[${i}]`));
  const warnings: string[] = [];
  if (settings.opcua.publishedNodesFile) {
    const defaults = applyNodeOptions(PUBLISHED_NODES_DEFAULTS, settings.opcua.publishedNodesDefaults);
    const pn = loadPublishedNodesFile(settings.opcua.publishedNodesFile, { defaults, ...(settings.opcua.userCertificateDir ? { userCertificateDir: settings.opcua.userCertificateDir } : {}) });
    sources.push(...pn.sources);
    warnings.push(...pn.warnings);
  }
  const ids = new Set<string>();
  for (const s of sources) {
    if (ids.has(s.id)) throw new Error(`OPCUA_CONNECTOR.DUPLICATE_SOURCE: source id "${s.id}" is used twice (${s.origin}); every source needs its own id, it keys the sequence numbers`);
    ids.add(s.id);
  }
  return { sources, warnings };
}
