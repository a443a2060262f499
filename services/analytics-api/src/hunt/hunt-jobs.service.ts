import { randomUUID } from 'node:crypto';
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from '@weir/observability';
import { siteFilter, type Principal } from '../auth/principal';
import { ApiError } from '../common/api-error';
import { LOGGER, SETTINGS } from '../common/tokens';
import type { AnalyticsSettings } from '../config';
import { HuntRepository } from './hunt.repository';
import { huntResult, type HuntBody, type HuntResult } from './hunt.request';
import type { HuntRules } from './hunt.rules';
import { HuntService, type HuntProgress } from './hunt.service';

/** Where a hunt job is. */
export type HuntJobStatus = 'running' | 'done' | 'failed' | 'cancelled';

interface HuntJob {
  id: string;
  owner: string;
  status: HuntJobStatus;
  createdAt: number;
  finishedAt: number | null;
  request: { from: string; to: string; rules: string[] | null; sigma: boolean; limit: number };
  progress: HuntProgress;
  result: HuntResult | null;
  error: { code: string; message: string } | null;
  abort: AbortController;
}

/**
 * Hunt jobs: a hunt started in the background, polled for status and progress, its result kept for
 * `jobRetentionMs`. Jobs live in this instance's memory (lost on restart; behind a load balancer, route a caller's
 * job requests to the instance that took the job). Only their creator (or an admin) sees a job.
 */
@Injectable()
export class HuntJobs implements OnApplicationShutdown {
  private readonly jobs = new Map<string, HuntJob>();

  constructor(
    @Inject(SETTINGS) private readonly settings: AnalyticsSettings,
    @Inject(HuntService) private readonly hunts: HuntService,
    @Inject(HuntRepository) private readonly repo: HuntRepository,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Starts a job (the rules are already built, so a bad rule was a 400 before this). */
  start(caller: Principal, q: HuntBody, rules: HuntRules): ReturnType<HuntJobs['view']> {
    const h = this.settings.hunt;
    this.expire();
    const running = [...this.jobs.values()].filter((j) => j.status === 'running').length;
    if (running >= h.maxRunningJobs) throw new ApiError('RATE_LIMITED', `${running} hunt jobs are running (at most ${h.maxRunningJobs}); retry when one has finished`, { retryAfterS: 10 });
    if (this.jobs.size >= h.maxJobs) {
      const oldest = [...this.jobs.values()].filter((j) => j.status !== 'running').sort((a, b) => a.createdAt - b.createdAt)[0];
      if (!oldest) throw new ApiError('RATE_LIMITED', 'too many hunt jobs are kept; retry later', { retryAfterS: 10 });
      this.jobs.delete(oldest.id);
    }
    const job: HuntJob = {
      id: randomUUID(),
      owner: caller.id,
      status: 'running',
      createdAt: Date.now(),
      finishedAt: null,
      request: { from: q.from.toISOString(), to: q.to.toISOString(), rules: q.rules ?? null, sigma: q.sigma !== undefined, limit: q.limit },
      progress: { processedTo: q.from.toISOString(), eventsProcessed: 0, findings: 0 },
      result: null,
      error: null,
      abort: new AbortController(),
    };
    this.jobs.set(job.id, job);
    void this.execute(job, caller, q, rules);
    return this.view(job);
  }

  private async execute(job: HuntJob, caller: Principal, q: HuntBody, rules: HuntRules): Promise<void> {
    try {
      const out = await this.hunts.run(rules, q.from, q.to, q.limit, { signal: job.abort.signal, onProgress: (p) => (job.progress = p) });
      if (job.abort.signal.aborted) {
        job.status = 'cancelled';
      } else {
        const sites = siteFilter(caller);
        job.result = huntResult(q, rules, out, sites === null ? undefined : await this.repo.assetsOfSites(sites));
        job.status = 'done';
      }
    } catch (err) {
      job.status = 'failed';
      if (err instanceof ApiError) job.error = { code: err.code, message: err.message };
      else {
        this.logger.error({ err, job: job.id }, 'hunt job failed');
        job.error = { code: 'INTERNAL', message: 'internal error' };
      }
    } finally {
      job.finishedAt = Date.now();
    }
  }

  /** The job, if this caller may see it; 404 otherwise (another caller's job is not acknowledged). */
  get(caller: Principal, id: string): ReturnType<HuntJobs['view']> {
    return this.view(this.find(caller, id));
  }

  /** Cancels a running job and forgets it (or forgets a finished one). */
  remove(caller: Principal, id: string): void {
    const job = this.find(caller, id);
    job.abort.abort();
    this.jobs.delete(job.id);
  }

  onApplicationShutdown(): void {
    for (const j of this.jobs.values()) j.abort.abort();
  }

  private find(caller: Principal, id: string): HuntJob {
    this.expire();
    const job = this.jobs.get(id);
    if (!job || (job.owner !== caller.id && caller.role !== 'admin')) throw new ApiError('ANALYTICS.NOT_FOUND', `no hunt job ${JSON.stringify(id)} (jobs are kept ${Math.round(this.settings.hunt.jobRetentionMs / 60_000)} min after they finish)`);
    return job;
  }

  private expire(): void {
    const before = Date.now() - this.settings.hunt.jobRetentionMs;
    for (const j of this.jobs.values()) if (j.finishedAt !== null && j.finishedAt < before) this.jobs.delete(j.id);
  }

  private view(job: HuntJob) {
    return {
      id: job.id,
      status: job.status,
      createdAt: new Date(job.createdAt).toISOString(),
      finishedAt: job.finishedAt === null ? null : new Date(job.finishedAt).toISOString(),
      request: job.request,
      progress: job.progress,
      ...(job.result ? { result: job.result } : {}),
      ...(job.error ? { error: job.error } : {}),
    };
  }
}
