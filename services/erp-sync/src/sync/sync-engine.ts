import { sleep } from '@weir/kafka';
import type { HealthCheck, Logger } from '@weir/observability';
import type { AssetTreeOptions } from '../assets/asset-catalog';
import { ErpSyncError, errorCode, messageOf } from '../errors';
import { ENTITY_KINDS, type ChangeSet, type EntityKind, type ErpFeed } from './change-set';
import { planSync } from './planner';
import { validateMessage, type Publisher } from './publisher';
import type { StateStore, SyncStateDoc } from './state-store';
import type { SyncMetrics } from './sync-metrics';

/** Feeds polled one after the other on one interval (SAP: functional locations, then equipment, then orders). */
export interface FeedGroup {
  name: string;
  intervalMs: number;
  feeds: ErpFeed[];
}

/** Options of the engine. */
export interface SyncEngineOptions {
  groups: FeedGroup[];
  publisher: Publisher;
  store: StateStore;
  state: SyncStateDoc;
  tree: AssetTreeOptions;
  logger: Logger;
  metrics: SyncMetrics;
  /** Readiness fails when a feed's last successful poll is older than this many of its group's intervals. */
  staleAfterIntervals: number;
  /** Fields left out of change detection per kind. */
  hashIgnore?: Partial<Record<EntityKind, readonly string[]>>;
  now?: () => Date;
}

/** The outcome of one feed's poll. */
export interface FeedResult {
  feed: string;
  ok: boolean;
  mode: 'delta' | 'full';
  published: number;
  error?: string;
}

interface FeedStatus {
  lastSuccess?: number;
  lastError?: string;
}

/**
 * Runs the feeds: each group on its interval, feeds of a group in order. One
 * poll of a feed: fetch, plan against what was published, publish, wait for
 * every acknowledgement, then move the checkpoint and write the state file.
 * Publishing before checkpointing makes delivery at-least-once; on compacted
 * topics keyed by id a repeated message is harmless. Plans and state writes
 * of all feeds are serialised, as they share the asset tree.
 */
export class SyncEngine {
  private readonly abort = new AbortController();
  private readonly loops: Promise<void>[] = [];
  private readonly groupLocks = new Map<string, Promise<unknown>>();
  private stateLock: Promise<unknown> = Promise.resolve();
  private readonly status = new Map<string, FeedStatus>();
  private readonly startedAt: number;
  private readonly now: () => Date;

  constructor(private readonly options: SyncEngineOptions) {
    this.now = options.now ?? (() => new Date());
    this.startedAt = this.now().getTime();
  }

  /** Starts polling every group now and then on its interval. */
  start(): void {
    for (const group of this.options.groups) this.loops.push(this.loop(group));
  }

  /** Stops polling; a poll in progress is aborted between requests and its state left as before it. */
  async stop(): Promise<void> {
    this.abort.abort(new ErpSyncError('ERP.NETWORK_ERROR', 'stopping'));
    await Promise.allSettled(this.loops);
    await Promise.allSettled([...this.groupLocks.values()]);
  }

  /** Polls a group (every group when absent) now, after any poll of it in progress; `full` forces a reconciliation. */
  async pollNow(groupName?: string, options: { full?: boolean } = {}): Promise<FeedResult[]> {
    const groups = this.options.groups.filter((g) => groupName === undefined || g.name === groupName);
    if (groups.length === 0) throw new Error(`no feed group named ${groupName}`);
    const results: FeedResult[] = [];
    for (const g of groups) results.push(...(await this.runGroup(g, options.full ?? false)));
    return results;
  }

  /** Readiness checks, one per feed: failing before its first successful poll and when the last one is too old. */
  healthChecks(): HealthCheck[] {
    return this.options.groups.flatMap((group) =>
      group.feeds.map(
        (feed): HealthCheck => ({
          name: `erp-feed:${feed.name}`,
          kind: 'readiness',
          check: () => {
            const s = this.status.get(feed.name) ?? {};
            const error = s.lastError ? `; last error: ${s.lastError}` : '';
            // Not ready before the first poll went through: downstream would see no ERP context yet.
            if (s.lastSuccess === undefined) return { ok: false, detail: `no successful poll yet (started ${Math.round((this.now().getTime() - this.startedAt) / 1000)} s ago)${error}` };
            const ageMs = this.now().getTime() - s.lastSuccess;
            const limit = this.options.staleAfterIntervals * group.intervalMs;
            return { ok: ageMs <= limit, detail: `last successful poll ${Math.round(ageMs / 1000)} s ago (limit ${Math.round(limit / 1000)} s)${error}` };
          },
        }),
      ),
    );
  }

  private async loop(group: FeedGroup): Promise<void> {
    const signal = this.abort.signal;
    while (!signal.aborted) {
      await this.runGroup(group, false).catch((err: unknown) => this.options.logger.error({ group: group.name, err: messageOf(err) }, 'feed group failed'));
      await sleep(group.intervalMs, signal);
    }
  }

  // One poll of a group at a time: the interval loop and pollNow queue behind each other.
  private runGroup(group: FeedGroup, forceFull: boolean): Promise<FeedResult[]> {
    const previous = this.groupLocks.get(group.name) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(async () => {
      const results: FeedResult[] = [];
      for (const feed of group.feeds) {
        if (this.abort.signal.aborted) break;
        results.push(await this.syncFeed(feed, forceFull));
      }
      return results;
    });
    this.groupLocks.set(group.name, run);
    return run;
  }

  private withStateLock<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.stateLock.catch(() => undefined).then(fn);
    this.stateLock = run;
    return run;
  }

  private async syncFeed(feed: ErpFeed, forceFull: boolean): Promise<FeedResult> {
    const { logger, metrics } = this.options;
    const started = process.hrtime.bigint();
    const state = this.options.state.feeds[feed.name];
    const now = this.now();
    const lastFull = state?.lastFullAt ? Date.parse(state.lastFullAt) : undefined;
    let full = forceFull || lastFull === undefined || (feed.reconcileIntervalMs !== undefined && now.getTime() - lastFull >= feed.reconcileIntervalMs);
    const mode = full ? 'full' : 'delta';
    const status = this.status.get(feed.name) ?? {};
    this.status.set(feed.name, status);
    let published = 0;
    try {
      for (;;) {
        const since = full ? undefined : this.options.state.feeds[feed.name]?.since;
        const cs = await feed.fetchChanges(since, { full, signal: this.abort.signal });
        published += await this.withStateLock(() => this.publishChangeSet(feed, cs, full, since));
        await cs.onPublished?.();
        full = false;
        if (!cs.more || this.abort.signal.aborted) break;
      }
      status.lastSuccess = this.now().getTime();
      status.lastError = undefined;
      metrics.lastSuccess.set({ feed: feed.name }, status.lastSuccess / 1000);
      return { feed: feed.name, ok: true, mode, published };
    } catch (err) {
      if (this.abort.signal.aborted) return { feed: feed.name, ok: false, mode, published, error: 'stopped' };
      const code = errorCode(err);
      status.lastError = messageOf(err);
      metrics.errors.inc({ feed: feed.name, code });
      logger.error({ feed: feed.name, mode, code, err: messageOf(err) }, 'poll failed; the checkpoint stays, the next poll repeats it');
      return { feed: feed.name, ok: false, mode, published, error: messageOf(err) };
    } finally {
      metrics.pollDuration.observe({ feed: feed.name, mode }, Number(process.hrtime.bigint() - started) / 1e9);
    }
  }

  private async publishChangeSet(feed: ErpFeed, cs: ChangeSet, full: boolean, since: string | undefined): Promise<number> {
    const { logger, metrics } = this.options;
    const plan = planSync(this.options.state, feed.name, cs, { full, tree: this.options.tree, validate: validateMessage, ...(this.options.hashIgnore ? { hashIgnore: this.options.hashIgnore } : {}) });
    for (const bad of plan.invalid) {
      metrics.errors.inc({ feed: feed.name, code: 'ERP.MAPPING_FAILED' });
      logger.error({ feed: feed.name, entity: bad.kind, id: bad.id, code: 'ERP.MAPPING_FAILED', reason: bad.reason }, 'record does not fit its topic schema; skipped');
    }
    try {
      await this.options.publisher.publish(plan.messages);
    } catch (err) {
      throw new ErpSyncError('ERP.PUBLISH_FAILED', `${plan.messages.length} message(s) of ${feed.name} not acknowledged: ${messageOf(err)}`, {}, { cause: err });
    }
    // Cheap fingerprint: the published maps can hold 100k ids, too many to compare on every poll.
    const fingerprint = (): string => {
      const f = this.options.state.feeds[feed.name];
      return f ? `${f.since}|${f.lastFullAt}|${Object.values(f.published).reduce((n, m) => n + Object.keys(m ?? {}).length, 0)}` : '';
    };
    const before = fingerprint();
    plan.apply(this.options.state, this.now());
    if (plan.messages.length > 0 || fingerprint() !== before) await this.options.store.save(this.options.state);

    const counts: Record<string, number> = {};
    for (const m of plan.messages) {
      const op = m.value === null ? 'tombstone' : 'upsert';
      metrics.published.inc({ feed: feed.name, entity: m.kind, op });
      counts[`${m.kind}.${op}`] = (counts[`${m.kind}.${op}`] ?? 0) + 1;
    }
    if (plan.unchanged > 0) metrics.unchanged.inc({ feed: feed.name }, plan.unchanged);
    const read = Object.fromEntries(ENTITY_KINDS.filter((k) => cs.upserts[k]?.length || cs.deletions[k]?.length).map((k) => [k, (cs.upserts[k]?.length ?? 0) + (cs.deletions[k]?.length ?? 0)]));
    // Quiet polls (a file folder every 30 s) log at debug; anything published or a full read at info.
    const level = plan.messages.length > 0 || full || plan.invalid.length > 0 ? 'info' : 'debug';
    logger[level]({ feed: feed.name, mode: full ? 'full' : 'delta', since, nextSince: cs.nextSince ?? since, read, published: counts, unchanged: plan.unchanged, skipped: (cs.skipped ?? 0) + plan.invalid.length }, 'poll published');
    return plan.messages.length;
  }
}
