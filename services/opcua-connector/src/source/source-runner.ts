import { otEventsV1, telemetryRawV1, type JsonValue, type OtEventV1, type TelemetryRawV1 } from '@weir/contracts';
import type { CheckResult, Logger } from '@weir/observability';
import {
  connectReadOnly,
  createEventItem,
  createValueItems,
  deleteItems,
  discoverVariables,
  errorMessage,
  eventFilterFor,
  eventRecord,
  isOpcuaError,
  perCallLimit,
  promoteOpaque,
  readRawHistory,
  resolveConfiguredNodeId,
  securityPolicyOf,
  TypeHierarchy,
  variantToJson,
  type ClientPki,
  type EventSource,
  type MonitoredNode,
  type ReadOnlyConnection,
  type SourceConfig,
  type ValueItemSpec,
} from '@weir/opcua';
import { AttributeIds, type ClientSubscription, type DataValue, type NodeId } from 'node-opcua';
import type { ConnectorSettings } from '../config';
import type { ConnectorMetrics } from '../metrics';
import type { Spool } from '../spool/spool';
import { classifyEventType, toOtEvent } from './event-mapper';
import { NodeTracker, type Emission, type NodeSample } from './node-tracker';

/** A node the source monitors: configured, or found by browsing. */
interface ActiveNode {
  config: MonitoredNode;
  origin: 'config' | 'browse';
  browsePath?: string;
  /** `Good` while monitored, else why not. */
  status: string;
  monitored: boolean;
  monitoredItemId?: number;
  publishingIntervalMs: number;
  failures: number;
  retryAt: number;
}

interface SubState {
  subscription: ClientSubscription;
  /** clientHandle → node key (values) */
  values: Map<number, string>;
  /** clientHandle → event source and its field names */
  events: Map<number, { source: EventSource; fieldNames: string[] }>;
}

const MAX_GAP_EVENTS_PER_NODE = 100;
/** The Server object (i=2253) and BaseModelChangeEventType (i=2132), Part 5. */
const SERVER_OBJECT = 'i=2253';
const MODEL_CHANGE_EVENT_TYPE = 'i=2132';
const iso = (ms: number): string => new Date(ms).toISOString();

/** State keys in the spool: per-source sequence numbers, liveness time, per-node watermark. */
export const stateKeys = {
  seq: (source: string) => `opcua:${source}:seq`,
  eventSeq: (source: string) => `opcua:${source}:event-seq`,
  alive: (source: string) => `opcua:${source}:alive`,
  watermark: (source: string, node: string) => `opcua:${source}:wm:${node}`,
};

/**
 * Reads one OPC UA endpoint into the spool, for as long as it runs.
 *
 * It owns the whole session lifecycle: connect (read-only, with the trust
 * list), create few subscriptions (one per publishing interval) with
 * monitored items in chunks within the server's limits, read the interval it
 * missed back from history, forward every change with a per-source sequence
 * number, events, heartbeats and its own connection changes; and, when the
 * session is lost, start over with a back-off. Items the server refuses are
 * retried on their own; the rest keep running.
 */
export class SourceRunner {
  private readonly log: Logger;
  private readonly trackers = new Map<string, NodeTracker>();
  private readonly nodes = new Map<string, ActiveNode>();
  private readonly browsed = new Set<string>();
  private conn: ReadOnlyConnection | undefined;
  private subs = new Map<string, SubState>();
  private types: TypeHierarchy | undefined;
  private readonly typeNames = new Map<string, string>();
  private nextSeq: number;
  private nextEventSeq: number;
  private stopped = false;
  private stopSignal!: Promise<void>;
  private signalStop!: () => void;
  private restartRequest: ((reason: string) => void) | undefined;
  private chain: Promise<void> = Promise.resolve();
  private pendingSamples = 0;
  private paused = false;
  private everConnected = false;
  private failStreak = 0;
  private lastReceived = 0;
  private timers: NodeJS.Timeout[] = [];
  private rebrowseTimer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private lastError: string | undefined;

  constructor(
    private readonly source: SourceConfig,
    private readonly settings: ConnectorSettings['opcua'],
    private readonly pki: ClientPki,
    private readonly spool: Spool,
    logger: Logger,
    private readonly metrics: ConnectorMetrics,
  ) {
    this.log = logger.child({ source: source.id });
    this.nextSeq = numberState(spool.getState(stateKeys.seq(source.id)));
    this.nextEventSeq = numberState(spool.getState(stateKeys.eventSeq(source.id)));
    for (const node of source.nodes) this.addNode(node, 'config');
    this.stopSignal = new Promise((resolve) => (this.signalStop = resolve));
  }

  /** The source id. */
  get id(): string {
    return this.source.id;
  }

  /** The open connection, if any (tests reach the guarded session through it). */
  get connection(): ReadOnlyConnection | undefined {
    return this.conn;
  }

  /** Starts the connect-subscribe-recover loop in the background. */
  start(): void {
    this.running ??= this.loop().catch((err: unknown) => this.log.fatal({ err: errorMessage(err) }, 'source loop crashed'));
  }

  /** Closes the session, waits for what was received to reach the spool. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.signalStop();
    await this.running;
    await this.chain;
  }

  /** Readiness: connected and every configured item monitored. */
  health(): CheckResult {
    const total = this.nodes.size;
    const failed = [...this.nodes.entries()].filter(([, n]) => !n.monitored);
    if (!this.conn) return { ok: false, detail: `not connected${this.lastError ? `: ${this.lastError}` : ''}` };
    if (failed.length > 0) {
      const sample = failed.slice(0, 3).map(([k, n]) => `${k} (${n.status})`);
      return { ok: false, detail: `${failed.length} of ${total} items not monitored: ${sample.join(', ')}${failed.length > 3 ? ', ...' : ''}` };
    }
    return { ok: true, detail: `${total} items monitored` };
  }

  // ------------------------------------------------------------------ lifecycle

  private async loop(): Promise<void> {
    let delay = this.settings.reconnectDelay;
    while (!this.stopped) {
      let lostReason: string | undefined;
      try {
        lostReason = await this.session();
        delay = this.settings.reconnectDelay;
      } catch (err) {
        this.lastError = errorMessage(err);
        this.failStreak++;
        const untrusted = isOpcuaError(err, 'OPCUA.SERVER_CERTIFICATE_UNTRUSTED');
        // Log the first failure of a streak loudly; repeating it every few seconds would bury everything else.
        if (this.failStreak === 1 || untrusted) this.log.error({ err: this.lastError }, 'cannot open a session');
        else this.log.debug({ err: this.lastError, attempt: this.failStreak }, 'still cannot open a session');
        if (this.failStreak === 1) this.connectionEvent('connector.connect-failed', 500, `cannot open a session to ${this.source.endpointUrl}: ${this.lastError}`);
      } finally {
        await this.teardown();
      }
      if (this.stopped) break;
      if (lostReason !== undefined) {
        this.metrics.reconnects.inc({ source: this.id });
        this.connectionEvent('connector.connection-lost', 600, `connection to ${this.source.endpointUrl} lost: ${lostReason}`);
      }
      await Promise.race([sleep(delay), this.stopSignal]);
      delay = Math.min(delay * 2, this.settings.reconnectMaxDelay);
    }
  }

  /** One session: returns the reason it ended (undefined when stopped). */
  private async session(): Promise<string | undefined> {
    const conn = await connectReadOnly({
      endpointUrl: this.source.endpointUrl,
      securityMode: this.source.securityMode,
      securityPolicy: this.source.securityPolicy,
      identity: this.source.identity,
      pki: this.pki,
      applicationUri: this.settings.applicationUri,
      applicationName: this.settings.applicationName,
      sessionName: `weir-opcua-connector:${this.id}`,
      connectTimeoutMs: this.settings.connectTimeout,
      sessionTimeoutMs: this.settings.sessionTimeout,
      keepAliveIntervalMs: this.settings.keepAliveInterval,
    });
    this.conn = conn;
    this.types = new TypeHierarchy(conn.session);
    const lost = new Promise<string>((resolve) => {
      conn.onLost(resolve);
      this.restartRequest = resolve;
    });
    this.failStreak = 0;
    this.lastError = undefined;
    this.metrics.connected.set({ source: this.id }, 1);
    this.connectionEvent(this.everConnected ? 'connector.reconnected' : 'connector.connected', 200, `session to ${this.source.endpointUrl} open (${this.source.securityMode}/${this.source.securityPolicy})`, {
      securityMode: this.source.securityMode,
      securityPolicyUri: securityPolicyOf(this.source.securityPolicy),
      ...(conn.serverApplicationUri ? { serverApplicationUri: conn.serverApplicationUri } : {}),
      endpoints: conn.endpoints.map((e) => ({ ...e })),
    });
    this.everConnected = true;
    this.log.info({ endpointUrl: this.source.endpointUrl, securityMode: this.source.securityMode, limits: conn.limits }, 'session open');

    const setup = this.setup(conn).catch((err: unknown) => {
      this.log.error({ err: errorMessage(err) }, 'setting up subscriptions failed; starting over');
      this.restartRequest?.(`setup failed: ${errorMessage(err)}`);
    });
    const reason = await Promise.race([lost, this.stopSignal.then(() => undefined)]);
    await setup;
    if (reason !== undefined) this.log.warn({ reason }, 'session lost');
    return reason;
  }

  private async teardown(): Promise<void> {
    for (const t of this.timers.splice(0)) clearInterval(t);
    clearTimeout(this.rebrowseTimer);
    this.rebrowseTimer = undefined;
    const conn = this.conn;
    this.conn = undefined;
    this.subs = new Map();
    this.restartRequest = undefined;
    this.metrics.connected.set({ source: this.id }, 0);
    for (const n of this.nodes.values()) {
      n.monitored = false;
      n.monitoredItemId = undefined;
      if (n.status === 'Good') n.status = 'not connected';
    }
    this.updateItemGauges();
    // Let what the server already delivered reach the spool before the session goes.
    await this.chain;
    if (conn) await conn.close();
  }

  private restart(reason: string): void {
    this.restartRequest?.(reason);
  }

  // ------------------------------------------------------------------ setup

  private async setup(conn: ReadOnlyConnection): Promise<void> {
    // The spool state is the truth across sessions: a failed append rolled nothing forward there.
    for (const [key, t] of this.trackers) {
      const wm = this.spool.getState(stateKeys.watermark(this.id, key));
      t.watermark = typeof wm === 'number' ? wm : undefined;
    }
    const alive = numberState(this.spool.getState(stateKeys.alive(this.id))) || undefined;
    if (this.source.browse.length > 0) await this.browse(conn, false);
    const keys = [...this.nodes.keys()];
    const backfill = this.settings.backfill && alive !== undefined;
    for (const key of keys) this.trackers.get(key)!.beginSubscribe(backfill);
    await this.createItems(conn, keys);
    await this.createEventItems(conn);
    this.startTimers(conn);
    if (backfill) await this.backfill(conn, keys, alive);
    else for (const key of keys) this.release(key, null);
  }

  private startTimers(conn: ReadOnlyConnection): void {
    // Heartbeats and item retries: one timer each, not one per node.
    const heartbeatNodes = [...this.nodes.values()].some((n) => n.config.heartbeatIntervalMs > 0) || this.source.browse.some((b) => b.defaults.heartbeatIntervalMs > 0);
    if (heartbeatNodes) this.timers.push(setInterval(() => this.heartbeats(), 1000));
    this.timers.push(
      setInterval(() => {
        this.enqueue(() => this.retryItems(conn));
      }, Math.max(1000, Math.min(this.settings.itemRetryInterval, 10_000))),
    );
    for (const rule of this.source.browse) {
      if (rule.rebrowseIntervalMs > 0) this.timers.push(setInterval(() => this.scheduleRebrowse(conn, 0), rule.rebrowseIntervalMs));
    }
  }

  private addNode(config: MonitoredNode, origin: 'config' | 'browse', browsePath?: string): void {
    if (this.nodes.has(config.nodeId)) return;
    this.nodes.set(config.nodeId, { config, origin, status: 'not created', monitored: false, publishingIntervalMs: config.publishingIntervalMs, failures: 0, retryAt: 0, ...(browsePath ? { browsePath } : {}) });
    if (!this.trackers.has(config.nodeId)) {
      const wm = this.spool.getState(stateKeys.watermark(this.id, config.nodeId));
      this.trackers.set(config.nodeId, new NodeTracker(config.nodeId, typeof wm === 'number' ? wm : undefined, config.skipFirst));
    }
  }

  private async subscriptionFor(conn: ReadOnlyConnection, publishingIntervalMs: number, kind: 'values' | 'events'): Promise<SubState> {
    const key = `${kind}:${publishingIntervalMs}`;
    const existing = this.subs.get(key);
    if (existing) return existing;
    // Keep-alive about every 10 s, lifetime six keep-alives: the server notices a dead client within a minute.
    const keepAlive = Math.max(3, Math.ceil(10_000 / Math.max(publishingIntervalMs, 1)));
    const subscription = await conn.session.createSubscription2({ requestedPublishingInterval: publishingIntervalMs, requestedMaxKeepAliveCount: keepAlive, requestedLifetimeCount: keepAlive * 6, maxNotificationsPerPublish: 0, publishingEnabled: !this.paused, priority: 1 });
    const state: SubState = { subscription, values: new Map(), events: new Map() };
    this.subs.set(key, state);
    subscription.on('raw_notification', (message: { notificationData?: unknown[] | null }) => {
      this.lastReceived = Date.now();
      this.enqueue(() => this.onNotification(conn, state, message));
    });
    subscription.on('keepalive', () => {
      this.lastReceived = Date.now();
    });
    subscription.on('terminated', () => {
      if (this.conn === conn) this.restart('subscription terminated by the server');
    });
    subscription.on('status_changed', (status: { isBad?: () => boolean; name?: string }) => {
      if (status.isBad?.()) this.restart(`subscription status ${status.name ?? 'bad'}`);
    });
    return state;
  }

  private maxPerCall(conn: ReadOnlyConnection): number {
    return perCallLimit(this.settings.maxItemsPerCall, conn.limits.maxMonitoredItemsPerCall);
  }

  private async createItems(conn: ReadOnlyConnection, keys: readonly string[]): Promise<void> {
    const byInterval = new Map<number, ValueItemSpec[]>();
    for (const key of keys) {
      const node = this.nodes.get(key);
      if (!node) continue;
      let nodeId: NodeId;
      try {
        nodeId = resolveConfiguredNodeId(key, conn.namespaces);
      } catch (err) {
        this.itemFailed(key, node, `BadNodeIdInvalid: ${errorMessage(err)}`);
        continue;
      }
      let list = byInterval.get(node.publishingIntervalMs);
      if (!list) byInterval.set(node.publishingIntervalMs, (list = []));
      list.push({ key, nodeId, node: node.config });
    }
    for (const [interval, specs] of byInterval) {
      const sub = await this.subscriptionFor(conn, interval, 'values');
      // Handles are mapped chunk by chunk, as the server answers: its first notifications may arrive
      // before the last chunk is created.
      await createValueItems(sub.subscription, specs, this.maxPerCall(conn), (outcomes) => {
        for (const o of outcomes) {
          const node = this.nodes.get(o.key);
          if (!node) continue;
          if (o.ok && o.clientHandle !== undefined) {
            sub.values.set(o.clientHandle, o.key);
            node.monitored = true;
            node.status = 'Good';
            node.failures = 0;
            if (o.monitoredItemId !== undefined) node.monitoredItemId = o.monitoredItemId;
          } else this.itemFailed(o.key, node, o.status);
        }
      });
    }
    const failed = keys.filter((k) => this.nodes.get(k) && !this.nodes.get(k)!.monitored);
    this.log.info({ items: keys.length, failed: failed.length, subscriptions: this.subs.size }, 'monitored items created');
    this.updateItemGauges();
  }

  private itemFailed(key: string, node: ActiveNode, status: string): void {
    node.monitored = false;
    node.status = status;
    node.failures++;
    // Back off per item: a node that does not exist should not cost a call every few seconds.
    node.retryAt = Date.now() + this.settings.itemRetryInterval * Math.min(10, 2 ** Math.min(node.failures - 1, 4));
    if (node.failures === 1) this.log.warn({ node: key, status }, 'monitored item refused; others continue, this one is retried');
  }

  private async retryItems(conn: ReadOnlyConnection): Promise<void> {
    if (this.conn !== conn) return;
    const now = Date.now();
    const due = [...this.nodes.entries()].filter(([, n]) => !n.monitored && n.retryAt <= now).map(([k]) => k);
    if (due.length === 0) return;
    for (const key of due) this.trackers.get(key)!.beginSubscribe(false);
    await this.createItems(conn, due);
  }

  private async createEventItems(conn: ReadOnlyConnection): Promise<void> {
    const sources = [...this.source.events];
    // Browse rules follow the address space: model-change events trigger a re-browse, so listen to them
    // on the Server object unless a configured subscription there already receives every event.
    if (this.source.browse.length > 0 && !sources.some((e) => e.notifierId === SERVER_OBJECT && !e.typeDefinitionId && !e.whereClause)) {
      sources.push({ notifierId: SERVER_OBJECT, typeDefinitionId: MODEL_CHANGE_EVENT_TYPE, publishingIntervalMs: 1000, queueSize: 1000 });
    }
    for (const ev of sources) {
      const sub = await this.subscriptionFor(conn, ev.publishingIntervalMs, 'events');
      let filter;
      let fieldNames: string[];
      try {
        ({ filter, fieldNames } = eventFilterFor(ev, (id) => resolveConfiguredNodeId(id, conn.namespaces), conn.namespaces));
      } catch (err) {
        this.log.error({ notifier: ev.notifierId, err: errorMessage(err) }, 'event filter cannot be built; this event source is skipped');
        continue;
      }
      const outcome = await createEventItem(sub.subscription, ev.notifierId, resolveConfiguredNodeId(ev.notifierId, conn.namespaces), filter, ev.queueSize);
      if (outcome.ok && outcome.clientHandle !== undefined) sub.events.set(outcome.clientHandle, { source: ev, fieldNames });
      else this.log.error({ notifier: ev.notifierId, status: outcome.status }, 'event subscription refused');
    }
  }

  // ------------------------------------------------------------------ browse

  private async browse(conn: ReadOnlyConnection, live: boolean): Promise<void> {
    const found = new Map<string, { config: MonitoredNode; browsePath: string }>();
    for (const rule of this.source.browse) {
      const root = resolveConfiguredNodeId(rule.rootNodeId, conn.namespaces);
      const vars = await discoverVariables(conn.session, rule, root, { maxNodesPerBrowse: perCallLimit(1000, conn.limits.maxNodesPerBrowse), namespaces: conn.namespaces, ...(this.types ? { types: this.types } : {}) });
      for (const v of vars) if (!found.has(v.nodeId)) found.set(v.nodeId, { config: { nodeId: v.nodeId, ...rule.defaults }, browsePath: v.browsePath });
    }
    const added: string[] = [];
    for (const [key, f] of found) {
      if (this.nodes.has(key)) continue;
      this.addNode(f.config, 'browse', f.browsePath);
      this.browsed.add(key);
      added.push(key);
    }
    const removed = [...this.browsed].filter((k) => !found.has(k));
    if (live) {
      if (removed.length > 0) await this.removeNodes(conn, removed);
      if (added.length > 0) {
        for (const key of added) this.trackers.get(key)!.beginSubscribe(false);
        await this.createItems(conn, added);
        for (const key of added) this.release(key, null);
      }
    }
    if (added.length > 0 || removed.length > 0) this.log.info({ added: added.length, removed: removed.length, browsed: this.browsed.size }, 'browse applied');
  }

  private async removeNodes(conn: ReadOnlyConnection, keys: readonly string[]): Promise<void> {
    const bySub = new Map<SubState, number[]>();
    for (const key of keys) {
      const node = this.nodes.get(key);
      this.nodes.delete(key);
      this.browsed.delete(key);
      if (!node?.monitored || node.monitoredItemId === undefined) continue;
      const sub = this.subs.get(`values:${node.publishingIntervalMs}`);
      if (!sub) continue;
      for (const [handle, k] of sub.values) if (k === key) sub.values.delete(handle);
      let ids = bySub.get(sub);
      if (!ids) bySub.set(sub, (ids = []));
      ids.push(node.monitoredItemId);
    }
    for (const [sub, ids] of bySub) {
      try {
        await deleteItems(sub.subscription, ids, this.maxPerCall(conn));
      } catch (err) {
        this.log.warn({ err: errorMessage(err), items: ids.length }, 'deleting removed items failed; their notifications are ignored');
      }
    }
    this.updateItemGauges();
  }

  private scheduleRebrowse(conn: ReadOnlyConnection, delayMs: number): void {
    if (this.rebrowseTimer || this.source.browse.length === 0) return;
    this.rebrowseTimer = setTimeout(() => {
      this.rebrowseTimer = undefined;
      this.enqueue(async () => {
        if (this.conn !== conn) return;
        try {
          await this.browse(conn, true);
        } catch (err) {
          this.log.warn({ err: errorMessage(err) }, 're-browse failed; trying again at the next model change or interval');
        }
      });
    }, delayMs);
  }

  // ------------------------------------------------------------------ backfill

  /**
   * Reads what each held node missed back from history and releases it.
   * After a reconnection (`alive` = when data was last received) the read
   * starts shortly before that; when values were dropped during a session
   * (`alive` undefined) it starts at the watermark. `cause` prefixes the
   * reason of gaps it records.
   */
  private async backfill(conn: ReadOnlyConnection, keys: readonly string[], alive: number | undefined, cause?: string): Promise<void> {
    const now = Date.now();
    const oldest = now - this.settings.backfillMaxSpan;
    const requests: Array<{ key: string; nodeId: NodeId; after: number }> = [];
    const gaps: Array<{ key: string; from: number; to: number; reason: string }> = [];
    for (const key of keys) {
      const t = this.trackers.get(key)!;
      const node = this.nodes.get(key);
      if (!t.isHolding || !node?.monitored || t.watermark === undefined) {
        if (t.isHolding) this.release(key, null);
        continue;
      }
      // Values between the watermark and the last data received were all delivered; only after that can one be missing.
      let after = alive === undefined ? t.watermark : Math.max(t.watermark, alive - this.settings.backfillMargin);
      if (after < oldest) {
        gaps.push({ key, from: after, to: oldest, reason: because(cause, `older than backfillMaxSpan (${this.settings.backfillMaxSpan} ms)`) });
        after = oldest;
      }
      requests.push({ key, nodeId: resolveConfiguredNodeId(key, conn.namespaces), after });
    }
    if (requests.length > 0) {
      const nodesPerCall = perCallLimit(perCallLimit(this.settings.historyNodesPerCall, conn.limits.maxNodesPerHistoryReadData), conn.limits.maxNodesPerRead);
      const outcomes = await readRawHistory(conn.session, requests, now, { nodesPerCall, valuesPerNode: this.settings.historyValuesPerNode });
      let values = 0;
      for (const o of outcomes) {
        const req = requests.find((r) => r.key === o.key)!;
        if (!o.ok) gaps.push({ key: o.key, from: req.after, to: now, reason: because(cause, o.status) });
        values += o.values.length;
        await this.promoteIfNeeded(conn, o.values);
        // A read from a session that has ended since: the next session holds and reads back itself.
        this.enqueue(() => (this.conn === conn ? this.release(o.key, o.ok ? o.values.map((dv) => toNodeSample(dv, now)) : null) : undefined));
      }
      this.log.info({ nodes: requests.length, values, failed: outcomes.filter((o) => !o.ok).length }, 'backfill read');
    }
    if (gaps.length > 0) this.enqueue(() => this.recordGaps(gaps));
  }

  /** Ends holding for a node: emits its history (or none) and its held live values. */
  private release(key: string, history: NodeSample[] | null): void {
    const t = this.trackers.get(key);
    if (!t) return;
    const emissions = t.completeBackfill(history, Date.now());
    if (emissions.length > 0) this.emitSamples(emissions.map((e) => ({ key, e })));
    // More values were dropped while this read-back ran: read once more from the new watermark.
    const conn = this.conn;
    if (t.takeLossWhileHolding() && conn && this.settings.backfill && t.beginRecovery()) this.recover(conn, [key], 'the server dropped values (queue overflow) during a read-back');
  }

  private recordGaps(gaps: Array<{ key: string; from: number; to: number; reason: string }>): void {
    const now = iso(Date.now());
    const byReason = new Map<string, typeof gaps>();
    for (const g of gaps) {
      let list = byReason.get(g.reason);
      if (!list) byReason.set(g.reason, (list = []));
      list.push(g);
    }
    const events: OtEventV1[] = [];
    for (const [reason, list] of byReason) {
      // Many nodes without history after one outage are one gap of the source, not thousands of events.
      if (list.length > MAX_GAP_EVENTS_PER_NODE) {
        const from = Math.min(...list.map((g) => g.from));
        const to = Math.max(...list.map((g) => g.to));
        events.push(this.gapEvent(undefined, from, to, reason, now, list.length));
      } else for (const g of list) events.push(this.gapEvent(g.key, g.from, g.to, reason, now, 1));
    }
    this.metrics.gaps.inc({ source: this.id }, events.length);
    this.log.warn({ gaps: events.length, nodes: gaps.length }, 'intervals that cannot be recovered recorded as gaps');
    this.emitEvents(events, 'gap');
  }

  private gapEvent(nodeId: string | undefined, from: number, to: number, reason: string, receivedTime: string, nodes: number): OtEventV1 {
    const e: OtEventV1 = {
      eventId: `${this.id}:gap:${nodeId ?? '*'}:${from}`.slice(0, 200),
      sourceId: this.id,
      kind: 'gap',
      type: 'connector.gap',
      time: iso(to),
      receivedTime,
      severity: 300,
      message: `${nodeId ? `values of ${nodeId}` : `values of ${nodes} nodes`} between ${iso(from)} and ${iso(to)} cannot be recovered: ${reason}`.slice(0, 4000),
      gap: { from: iso(from), to: iso(to), reason: reason.slice(0, 500) },
      attributes: nodeId ? {} : { nodes },
    };
    if (nodeId) e.nodeId = nodeId;
    return e;
  }

  // ------------------------------------------------------------------ notifications

  private enqueue(task: () => Promise<void> | void): void {
    this.chain = this.chain.then(task).catch((err: unknown) => {
      this.log.error({ err: errorMessage(err) }, 'processing notifications failed; starting the session over');
      this.restart(`processing failed: ${errorMessage(err)}`);
    });
  }

  private async promoteIfNeeded(conn: ReadOnlyConnection, values: DataValue[]): Promise<void> {
    if (values.some((dv) => dv.value?.value?.constructor?.name === 'OpaqueStructure' || (Array.isArray(dv.value?.value) && dv.value.value.some((x: unknown) => x?.constructor?.name === 'OpaqueStructure')))) {
      await promoteOpaque(conn.session, values);
    }
  }

  private async onNotification(conn: ReadOnlyConnection, sub: SubState, message: { notificationData?: unknown[] | null }): Promise<void> {
    const now = Date.now();
    const out: Array<{ key: string; e: Emission }> = [];
    const overflowed: string[] = [];
    for (const data of message.notificationData ?? []) {
      const name = (data as { schema?: { name?: string } }).schema?.name;
      if (name === 'DataChangeNotification') {
        const items = (data as { monitoredItems?: Array<{ clientHandle: number; value: DataValue }> | null }).monitoredItems ?? [];
        this.metrics.notifications.inc({ source: this.id }, items.length);
        await this.promoteIfNeeded(conn, items.map((i) => i.value));
        for (const item of items) {
          const key = sub.values.get(item.clientHandle);
          if (key === undefined) continue;
          const t = this.trackers.get(key);
          if (!t) continue;
          const sample = toNodeSample(item.value, now);
          if (hasOverflowBit(sample.status)) this.onOverflow(key, t, sample, overflowed);
          for (const e of t.onLive(sample, now)) out.push({ key, e });
        }
      } else if (name === 'EventNotificationList') {
        const events = (data as { events?: Array<{ clientHandle: number; eventFields?: Array<{ value: unknown }> | null }> | null }).events ?? [];
        await this.onEvents(conn, sub, events);
      } else if (name === 'StatusChangeNotification') {
        const status = (data as { status?: { isBad?: () => boolean; name?: string } }).status;
        if (status?.isBad?.()) this.restart(`subscription status ${status.name ?? 'bad'}`);
      }
    }
    if (out.length > 0) this.emitSamples(out);
    if (overflowed.length > 0) this.recover(conn, overflowed, 'the server dropped values (queue overflow)');
  }

  /**
   * The server's queue for an item overflowed: it dropped values between the
   * last one we have and this one. Read them back from history (holding this
   * and later live values meanwhile), or, with backfill off or before any
   * value was sent, record the interval as a gap.
   */
  private onOverflow(key: string, t: NodeTracker, sample: NodeSample, overflowed: string[]): void {
    this.metrics.overflows.inc({ source: this.id });
    if (this.settings.backfill && t.beginRecovery()) {
      overflowed.push(key);
      return;
    }
    // A read-back is under way (the tracker asks for another after it), or this is the node's first
    // value: nothing was sent before it to measure a gap from.
    if (t.isHolding || t.watermark === undefined) return;
    this.recordGaps([{ key, from: t.watermark, to: sample.sourceTime, reason: 'the server dropped values (queue overflow)' }]);
  }

  /**
   * Values of monitored items were lost upstream (`cause`): read the interval
   * after each node's watermark back from history, off the notification
   * chain so other nodes keep flowing. The trackers already hold live values.
   */
  private recover(conn: ReadOnlyConnection, keys: readonly string[], cause: string): void {
    this.log.warn({ nodes: keys.length, cause }, 'reading dropped values back from history');
    this.backfill(conn, keys, undefined, cause).catch((err: unknown) => {
      // The session went: the next one reads everything after the watermarks back anyway.
      if (this.conn !== conn) return;
      this.log.error({ err: errorMessage(err), nodes: keys.length }, 'reading dropped values back failed; recording gaps');
      const now = Date.now();
      this.enqueue(() => {
        const gaps = keys.map((key) => ({ key, from: this.trackers.get(key)?.watermark ?? now, to: now, reason: `${cause}; history read failed: ${errorMessage(err)}` }));
        for (const key of keys) this.release(key, null);
        this.recordGaps(gaps);
      });
    });
  }

  private async typeName(conn: ReadOnlyConnection, typeId: string): Promise<string> {
    let name = this.typeNames.get(typeId);
    if (name === undefined) {
      const dv = await conn.session.read({ nodeId: typeId, attributeId: AttributeIds.BrowseName });
      name = (dv.value?.value as { name?: string } | null)?.name ?? typeId;
      this.typeNames.set(typeId, name);
    }
    return name;
  }

  private async onEvents(conn: ReadOnlyConnection, sub: SubState, events: Array<{ clientHandle: number; eventFields?: Array<{ value: unknown }> | null }>): Promise<void> {
    const receivedTime = iso(Date.now());
    const out: OtEventV1[] = [];
    let modelChanged = false;
    for (const ev of events) {
      const handler = sub.events.get(ev.clientHandle);
      if (!handler) continue;
      const record = eventRecord(handler.fieldNames, ev.eventFields ?? []);
      const typeId = typeof record['EventType'] === 'string' ? record['EventType'] : 'i=2041';
      const kind = classifyEventType(await this.types!.ancestors(typeId));
      if (kind === 'other') continue;
      if (kind === 'model-change') modelChanged = true;
      out.push(toOtEvent(record, { sourceId: this.id, kind, typeName: await this.typeName(conn, typeId), receivedTime }));
    }
    if (modelChanged) this.scheduleRebrowse(conn, 1000);
    if (out.length > 0) this.emitEvents(out, undefined);
  }

  private heartbeats(): void {
    if (!this.conn) return;
    const now = Date.now();
    const out: Array<{ key: string; e: Emission }> = [];
    for (const [key, node] of this.nodes) {
      if (!node.monitored || node.config.heartbeatIntervalMs <= 0) continue;
      const hb = this.trackers.get(key)?.heartbeat(node.config.heartbeatIntervalMs, now);
      if (hb) out.push({ key, e: hb });
    }
    if (out.length > 0) this.enqueue(() => this.emitSamples(out));
  }

  // ------------------------------------------------------------------ output

  private emitSamples(list: Array<{ key: string; e: Emission }>): void {
    const receivedTime = iso(Date.now());
    const messages: TelemetryRawV1[] = [];
    const touched = new Map<string, number>();
    const kinds = { live: 0, backfill: 0, heartbeat: 0 };
    for (const { key, e } of list) {
      const s = e.sample;
      const m: TelemetryRawV1 = { sourceId: this.id, nodeId: key, seq: this.nextSeq++, origin: 'opcua', value: s.value, dataType: s.dataType, status: s.status, sourceTime: iso(s.sourceTime), receivedTime };
      if (s.serverTime !== undefined) m.serverTime = iso(s.serverTime);
      const browsePath = this.nodes.get(key)?.browsePath;
      if (browsePath) m.browsePath = browsePath;
      if (e.kind === 'heartbeat') m.heartbeat = true;
      else touched.set(key, this.trackers.get(key)!.watermark!);
      kinds[e.kind]++;
      messages.push(m);
    }
    // The state travels in the same frame as the samples: after a crash the watermarks and the
    // sequence number match exactly what the log holds, so a backfill neither repeats nor skips.
    const state: Record<string, JsonValue> = { [stateKeys.seq(this.id)]: this.nextSeq, [stateKeys.alive(this.id)]: this.lastReceived || Date.now() };
    for (const [key, wm] of touched) state[stateKeys.watermark(this.id, key)] = wm;
    const done = this.spool.appendMany(telemetryRawV1, messages, { state });
    for (const k of ['live', 'backfill', 'heartbeat'] as const) if (kinds[k] > 0) this.metrics.samples.inc({ source: this.id, kind: k }, kinds[k]);
    this.track(messages.length, done);
  }

  private emitEvents(events: OtEventV1[], kind: OtEventV1['kind'] | undefined): void {
    for (const e of events) {
      e.seq = this.nextEventSeq++;
      this.metrics.events.inc({ source: this.id, kind: kind ?? e.kind });
    }
    this.track(0, this.spool.appendMany(otEventsV1, events, { state: { [stateKeys.eventSeq(this.id)]: this.nextEventSeq } }));
  }

  /** The connector's own connection change as an event; `extra` adds to its attributes (what was negotiated, what the server offers). */
  private connectionEvent(type: string, severity: number, message: string, extra: Record<string, JsonValue> = {}): void {
    const now = Date.now();
    this.emitEvents(
      [{ eventId: `${this.id}:${type}:${now}`.slice(0, 200), sourceId: this.id, kind: 'connection', type, time: iso(now), receivedTime: iso(now), severity, message: message.slice(0, 4000), attributes: { endpointUrl: this.source.endpointUrl, ...extra } }],
      'connection',
    );
  }

  /** Counts samples on their way to disk and pauses publishing while too many are. */
  private track(samples: number, done: Promise<unknown>): void {
    this.pendingSamples += samples;
    this.metrics.pending.set({ source: this.id }, this.pendingSamples);
    if (!this.paused && this.pendingSamples > this.settings.maxPendingSamples) this.setPaused(true);
    done.then(
      () => {
        this.pendingSamples -= samples;
        this.metrics.pending.set({ source: this.id }, this.pendingSamples);
        if (this.paused && this.pendingSamples < this.settings.maxPendingSamples / 2) this.setPaused(false);
      },
      (err: unknown) => {
        this.pendingSamples -= samples;
        this.log.error({ err: errorMessage(err), samples }, 'the spool refused data; re-reading from the last durable point');
        this.restart(`spool append failed: ${errorMessage(err)}`);
      },
    );
  }

  // Back-pressure: the server keeps values in its queues (and history) while publishing is off,
  // instead of us buffering without bound or dropping.
  // An item with a queue of one keeps only its newest value and sets no Overflow bit (Part 4,
  // 5.12.1.5), so whatever changed while publishing was off is read back from history on resume.
  private setPaused(paused: boolean): void {
    this.paused = paused;
    if (paused) this.metrics.backpressure.inc({ source: this.id });
    this.log.warn({ paused, pending: this.pendingSamples }, paused ? 'spool behind: publishing paused' : 'spool caught up: publishing resumed');
    const conn = this.conn;
    if (!paused && conn && this.settings.backfill) {
      const keys = [...this.nodes.entries()].filter(([key, n]) => n.monitored && n.config.queueSize <= 1 && this.trackers.get(key)!.beginRecovery()).map(([key]) => key);
      if (keys.length > 0) this.recover(conn, keys, 'publishing was paused while the spool caught up');
    }
    for (const sub of this.subs.values()) {
      sub.subscription.setPublishingMode(!paused).catch((err: unknown) => this.log.warn({ err: errorMessage(err) }, 'changing the publishing mode failed'));
    }
  }

  private updateItemGauges(): void {
    let ok = 0;
    for (const n of this.nodes.values()) if (n.monitored) ok++;
    this.metrics.items.set({ source: this.id, state: 'ok' }, ok);
    this.metrics.items.set({ source: this.id, state: 'failed' }, this.nodes.size - ok);
  }
}

function numberState(v: JsonValue | undefined): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A DataValue as a node sample: JSON value and type, status, times (source time falls back to server time, then `now`). */
/** StatusCode InfoType = DataValue (0x400) with the Overflow bit (0x80): the server discarded values before this one. */
const OVERFLOW_BITS = 0x480;

/** True when the server flagged this value: its queue overflowed and values were dropped. */
export function hasOverflowBit(status: number): boolean {
  return (status & OVERFLOW_BITS) === OVERFLOW_BITS;
}

function because(cause: string | undefined, reason: string): string {
  return cause ? `${cause}: ${reason}` : reason;
}

export function toNodeSample(dv: DataValue, now: number): NodeSample {
  const { value, dataType } = variantToJson(dv.value);
  const serverTime = dv.serverTimestamp?.getTime();
  const sample: NodeSample = { value, dataType, status: dv.statusCode.value >>> 0, sourceTime: dv.sourceTimestamp?.getTime() ?? serverTime ?? now };
  if (serverTime !== undefined) sample.serverTime = serverTime;
  return sample;
}
