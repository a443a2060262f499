import { erpAssetsV1, erpProductionOrdersV1, erpShiftsV1, erpWorkOrdersV1 } from '@weir/contracts';
import { BatchingProducer, createKafkaClient, ensureTopics, provisioningOptions } from '@weir/kafka';
import type { HealthRegistry, Logger, Registry } from '@weir/observability';
import type { ErpSyncSettings } from './config';
import { FileDropFeed } from './files/file-drop-feed';
import { createAuthProvider } from './sap/auth';
import { ODataClient } from './sap/odata-client';
import { SapFeed } from './sap/sap-feed';
import { currentEquipmentSegments, mapEquipment, mapFunctionalLocation, mapMaintenanceOrder, mapProductionOrder, type SapMappingOptions } from './sap/sap-mapping';
import { ShiftCalendarFeed } from './shifts/shift-feed';
import type { ErpFeed } from './sync/change-set';
import { KafkaPublisher } from './sync/publisher';
import { StateStore } from './sync/state-store';
import { SyncEngine, type FeedGroup, type FeedResult } from './sync/sync-engine';
import { SyncMetrics } from './sync/sync-metrics';

/** Dependencies the entry point (or a test) provides. */
export interface ErpSyncDeps {
  logger: Logger;
  metrics: Registry;
  health: HealthRegistry;
  /** Start the poll loops (default). Tests pass false and call `pollNow`. */
  startPolling?: boolean;
  now?: () => Date;
}

/** A running erp-sync. */
export interface ErpSync {
  /** Names of the feeds (`sap:API_EQUIPMENT/Equipment`, `files`, `shifts`). */
  readonly feeds: string[];
  /** Polls a group (`sap`, `files`, `shifts`; all when absent) now; `full` forces a reconciliation. */
  pollNow(group?: string, options?: { full?: boolean }): Promise<FeedResult[]>;
  /** Stops polling, then flushes and closes the producer. */
  stop(): Promise<void>;
}

/** The SAP feeds in dependency order: functional locations, equipment (under them), then orders (on them). */
export function sapFeeds(settings: NonNullable<ErpSyncSettings['sap']>, deps: { logger: Logger; metrics: SyncMetrics; now?: () => Date }): ErpFeed[] {
  const { logger, metrics } = deps;
  const client = new ODataClient({
    baseUrl: settings.baseUrl,
    servicePath: settings.servicePath,
    ...(settings.sapClient ? { sapClient: settings.sapClient } : {}),
    auth: createAuthProvider(settings.auth, { timeoutMs: settings.timeout }),
    timeoutMs: settings.timeout,
    retry: { maxAttempts: settings.retry.maxAttempts, initialDelayMs: settings.retry.initialDelay, maxDelayMs: settings.retry.maxDelay },
    logger: logger.child({ component: 'odata' }),
    onRetry: (service, code) => metrics.httpRetries.inc({ service, code }),
  });
  const mapping: SapMappingOptions = {
    timeZone: settings.timeZone,
    timeZoneByPlant: settings.timeZoneByPlant,
    functionalLocationIdPrefix: settings.functionalLocations.idPrefix,
    equipmentIdPrefix: settings.equipment.idPrefix,
    functionalLocationLevelByCategory: settings.functionalLocations.levelByCategory,
    equipmentLevelByTechnicalObjectType: settings.equipment.levelByTechnicalObjectType,
    equipmentLevelByCategory: settings.equipment.levelByCategory,
    assetByWorkCenter: settings.productionOrders.assetByWorkCenter,
    assetByPlant: settings.assetByPlant,
    idealCycleTimeS: settings.productionOrders.idealCycleTimes,
    ...(settings.productionOrders.idealCycleTimeField ? { idealCycleTimeField: settings.productionOrders.idealCycleTimeField } : {}),
  };
  const common = {
    client,
    overlapMs: settings.deltaOverlap,
    reconcileIntervalMs: settings.reconcileInterval,
    logger,
    metrics,
    ...(settings.pageSize ? { pageSize: settings.pageSize } : {}),
  };
  const entity = (e: { service: string; entitySet: string; filter?: string | undefined }) => ({ service: e.service, entitySet: e.entitySet, ...(e.filter ? { filter: e.filter } : {}) });
  const now = (): number => deps.now?.().getTime() ?? Date.now();
  const feeds: ErpFeed[] = [];
  if (settings.functionalLocations.enabled) feeds.push(new SapFeed({ ...common, ...entity(settings.functionalLocations), kind: 'assets', map: (r) => mapFunctionalLocation(r, mapping) }));
  if (settings.equipment.enabled) feeds.push(new SapFeed({ ...common, ...entity(settings.equipment), kind: 'assets', map: (r) => mapEquipment(r, mapping), prepare: (rows) => currentEquipmentSegments(rows, now()) }));
  if (settings.maintenanceOrders.enabled) feeds.push(new SapFeed({ ...common, ...entity(settings.maintenanceOrders), kind: 'workOrders', map: (r) => mapMaintenanceOrder(r, mapping) }));
  if (settings.productionOrders.enabled) {
    feeds.push(
      new SapFeed({
        ...common,
        ...entity(settings.productionOrders),
        kind: 'productionOrders',
        map: (r) => mapProductionOrder(r, mapping),
        ...(settings.productionOrders.expandOperations ? { expand: ['to_ProductionOrderOperation'] } : {}),
      }),
    );
  }
  return feeds;
}

/**
 * Starts erp-sync: provisions the four compacted topics (and their DLQs),
 * loads the state, builds the feeds the settings ask for and polls them.
 */
export async function startErpSync(settings: ErpSyncSettings, deps: ErpSyncDeps): Promise<ErpSync> {
  const { logger } = deps;
  const metrics = new SyncMetrics(deps.metrics);
  const kafka = createKafkaClient(settings.kafka, logger);
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topics = await ensureTopics(admin, [erpAssetsV1, erpWorkOrdersV1, erpProductionOrdersV1, erpShiftsV1], { ...provisioningOptions(settings.kafka), logger });
    // A delete-policy ERP topic loses the latest value per id after retention: consumers rebuilding context would miss records.
    for (const m of topics.mismatched) logger.error({ topic: m.topic, problem: m.problem }, 'ERP topic exists with the wrong cleanup policy; it must be compacted');
  } finally {
    await admin.disconnect();
  }
  const producer = new BatchingProducer(kafka, { logger, metrics: deps.metrics, topicPrefix: settings.kafka.topicPrefix, name: 'erp-sync' });
  try {
    await producer.connect();
    const store = new StateStore(settings.stateDir);
    const state = await store.load();

    const groups: FeedGroup[] = [];
    if (settings.sap) groups.push({ name: 'sap', intervalMs: settings.sap.pollInterval, feeds: sapFeeds(settings.sap, { logger, metrics, ...(deps.now ? { now: deps.now } : {}) }) });
    if (settings.files) {
      const f = settings.files;
      // File ages are compared with modification times, which are wall-clock: no injected clock here.
      groups.push({ name: 'files', intervalMs: f.pollInterval, feeds: [new FileDropFeed({ dir: f.dir, settleMs: f.settle, timeZone: f.timeZone, logger, metrics })] });
    }
    if (settings.shifts) {
      const s = settings.shifts;
      groups.push({ name: 'shifts', intervalMs: s.refreshInterval, feeds: [new ShiftCalendarFeed({ sites: s.sites, pastMs: s.past, futureMs: s.future, ...(deps.now ? { now: () => deps.now!().getTime() } : {}) })] });
    }

    const engine = new SyncEngine({
      groups,
      publisher: new KafkaPublisher(producer),
      store,
      state,
      tree: { ...(settings.enterprise ? { enterprise: settings.enterprise } : {}), levelByDepth: settings.sap?.functionalLocations.levelByDepth ?? ['site', 'area', 'line', 'cell'] },
      logger,
      metrics,
      staleAfterIntervals: settings.staleAfterIntervals,
      // A shift's changedAt is when it was expanded; only its content decides whether it changed.
      hashIgnore: { shifts: ['changedAt'] },
      ...(deps.now ? { now: deps.now } : {}),
    });
    for (const check of engine.healthChecks()) deps.health.register(check);
    if (deps.startPolling ?? true) engine.start();
    const feeds = groups.flatMap((g) => g.feeds.map((f) => f.name));
    logger.info({ feeds, stateFile: store.file, resumed: Object.keys(state.feeds).length > 0 }, 'erp-sync started');

    return {
      feeds,
      pollNow: (group, options) => engine.pollNow(group, options),
      stop: async () => {
        await engine.stop();
        await producer.close();
      },
    };
  } catch (err) {
    await producer.close().catch(() => undefined);
    throw err;
  }
}
