import type { Logger } from '@weir/observability';
import type { PiSourceSettings } from '../config';
import type { HistoryBackend, RangePage, TagRef } from '../core/range-runner';
import type { SourceSample } from '../core/source';
import { HistorianError } from '../errors';
import { piValueToSample } from './pi-values';
import { PiWebApiClient } from './pi-web-api.client';

interface PiItems {
  Items: unknown[];
  Links?: { Next?: string };
}

function itemsOf(body: unknown, what: string): PiItems {
  if (!body || typeof body !== 'object' || !Array.isArray((body as PiItems).Items)) throw new HistorianError('HISTORIAN.PI_BAD_RESPONSE', `${what}: the answer has no Items array`, { retryable: false });
  return body as PiItems;
}

const str = (o: unknown, k: string): string | undefined => {
  const v = o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined;
  return typeof v === 'string' ? v : undefined;
};

/**
 * AVEVA PI Web API: points of one data server (by `nameFilter` and by name),
 * recorded values read per stream set (`GET streamsets/recorded?webId=...`)
 * and, for streams with more than `maxCount` values in a window, page by
 * page per stream (`GET streams/{webId}/recorded`, the next page starting at
 * the last timestamp, the values already taken there skipped). A bad value
 * is reported with its request and skipped; a stream whose request fails is
 * failed alone.
 */
export class PiWebApiBackend implements HistoryBackend {
  private readonly client: PiWebApiClient;
  /** Tag key (point name) → WebId. */
  private webIds = new Map<string, string>();

  constructor(
    private readonly settings: PiSourceSettings,
    private readonly hooks: { logger: Logger; onBadInput: (code: string) => void },
  ) {
    this.client = new PiWebApiClient(settings);
  }

  async connect(signal: AbortSignal): Promise<TagRef[]> {
    const serverWebId = this.settings.dataServerWebId ?? (await this.findDataServer(signal));
    const points = new Map<string, string>();
    const list = async (nameFilter: string): Promise<void> => {
      let url: string | undefined = this.client.url(`dataservers/${encodeURIComponent(serverWebId)}/points`, { nameFilter, startIndex: 0, maxCount: 1000 });
      let startIndex = 0;
      while (url) {
        const page = itemsOf(await this.client.get(url, signal), `points of ${nameFilter}`);
        for (const p of page.Items) {
          const name = str(p, 'Name');
          const webId = str(p, 'WebId');
          if (name && webId) points.set(name, webId);
        }
        startIndex += page.Items.length;
        // Follow Links.Next when the server gives it; else page by startIndex while pages are full.
        url = page.Links?.Next ?? (page.Items.length === 1000 ? this.client.url(`dataservers/${encodeURIComponent(serverWebId)}/points`, { nameFilter, startIndex, maxCount: 1000 }) : undefined);
      }
    };
    if (this.settings.nameFilter) await list(this.settings.nameFilter);
    for (const name of this.settings.points) {
      if (points.has(name)) continue;
      const before = points.size;
      await list(name);
      if (points.size === before) this.hooks.logger.warn({ point: name }, 'a configured PI point does not exist on the data server');
    }
    this.webIds = points;
    return [...points.keys()].sort().map((name) => ({ key: name, nodeId: name }));
  }

  private async findDataServer(signal: AbortSignal): Promise<string> {
    const servers = itemsOf(await this.client.get(this.client.url('dataservers'), signal), 'data servers');
    const wanted = this.settings.dataServer;
    const match = servers.Items.find((s) => !wanted || str(s, 'Name')?.toLowerCase() === wanted.toLowerCase());
    const webId = str(match, 'WebId');
    if (!webId) throw new HistorianError('HISTORIAN.PI_ERROR', wanted ? `no data server named "${wanted}" (have: ${servers.Items.map((s) => str(s, 'Name')).join(', ')})` : 'PI Web API lists no data server', { retryable: true });
    return webId;
  }

  async *read(tags: readonly TagRef[], afterNow: ReadonlyMap<string, number>, to: number, signal: AbortSignal): AsyncGenerator<RangePage[]> {
    // The caller moves its checkpoints as pages are written; the filter needs where this read began.
    const after = new Map(afterNow);
    const size = this.settings.streamSetSize;
    const maxCount = this.settings.maxCount;
    const endTime = new Date(to).toISOString();
    for (let i = 0; i < tags.length; i += size) {
      const group = tags.slice(i, i + size);
      const from = Math.min(...group.map((t) => after.get(t.key)!));
      const url = this.client.url('streamsets/recorded', { webId: group.map((t) => this.webIds.get(t.key)!), startTime: new Date(from).toISOString(), endTime, maxCount, boundaryType: 'Inside' });
      const body = itemsOf(await this.client.get(url, signal), 'streamsets/recorded');
      const byWebId = new Map<string, unknown>();
      for (const item of body.Items) {
        const w = str(item, 'WebId');
        if (w) byWebId.set(w, item);
      }
      const page: RangePage[] = [];
      const more: Array<{ tag: TagRef; lastTime: number; atLast: number }> = [];
      for (const tag of group) {
        const item = byWebId.get(this.webIds.get(tag.key)!);
        if (!item) {
          page.push({ key: tag.key, samples: [], done: true, error: `${url}: no stream in the answer` });
          continue;
        }
        const values = (item as { Items?: unknown }).Items;
        if (!Array.isArray(values)) {
          page.push({ key: tag.key, samples: [], done: true, error: `streamsets/recorded: stream ${tag.key} has no Items` });
          continue;
        }
        const r = this.convert(tag, values, after.get(tag.key)!, to, 0, 'GET streamsets/recorded');
        const full = values.length >= maxCount;
        page.push({ key: tag.key, samples: r.samples, done: !full, ...(r.lastTime !== undefined ? { lastTime: r.lastTime } : {}) });
        if (full && r.lastRawTime !== undefined) more.push({ tag, lastTime: r.lastRawTime, atLast: r.atLast });
      }
      yield page;
      // Streams with more values than one answer: page on, one stream at a time.
      for (const m of more) {
        let { lastTime, atLast } = m;
        for (;;) {
          const what = `GET streams/${m.tag.key}/recorded from ${new Date(lastTime).toISOString()}`;
          const purl = this.client.url(`streams/${encodeURIComponent(this.webIds.get(m.tag.key)!)}/recorded`, { startTime: new Date(lastTime).toISOString(), endTime, maxCount, boundaryType: 'Inside' });
          let values: unknown[];
          try {
            values = itemsOf(await this.client.get(purl, signal), what).Items;
          } catch (err) {
            if (err instanceof HistorianError && err.details.retryable === false) {
              yield [{ key: m.tag.key, samples: [], done: true, error: err.message }];
              break;
            }
            throw err;
          }
          const r = this.convert(m.tag, values, after.get(m.tag.key)!, to, atLast, what, lastTime);
          const full = values.length >= maxCount;
          // A page holding only values at one instant cannot move on: PI has more than maxCount values at that instant.
          const stuck = full && r.lastRawTime === lastTime;
          yield [{ key: m.tag.key, samples: r.samples, done: !full || stuck, ...(r.lastTime !== undefined ? { lastTime: r.lastTime } : {}) }];
          if (stuck) {
            this.hooks.logger.warn({ point: m.tag.key, at: new Date(lastTime).toISOString(), maxCount }, 'more than maxCount values at one timestamp; raise maxCount to read them all');
            break;
          }
          if (!full || r.lastRawTime === undefined) break;
          lastTime = r.lastRawTime;
          atLast = r.atLast;
        }
      }
    }
  }

  /**
   * Samples of one answer in (after, to]. `skipAt` values at `skipTime` were
   * taken from the previous page (a page starts at the last timestamp of the
   * one before, inclusive). Returns the last raw timestamp and how many values
   * carry it, for the next page.
   */
  private convert(tag: TagRef, values: readonly unknown[], after: number, to: number, skipAt: number, what: string, skipTime?: number): { samples: SourceSample[]; lastTime?: number; lastRawTime?: number; atLast: number } {
    const samples: SourceSample[] = [];
    let lastTime: number | undefined;
    let lastRawTime: number | undefined;
    let atLast = 0;
    let skipped = 0;
    for (const item of values) {
      const t = typeof (item as { Timestamp?: unknown })?.Timestamp === 'string' ? Date.parse((item as { Timestamp: string }).Timestamp) : NaN;
      if (Number.isFinite(t)) {
        if (t === lastRawTime) atLast++;
        else {
          lastRawTime = t;
          atLast = 1;
        }
        if (skipTime !== undefined && t === skipTime && skipped < skipAt) {
          skipped++;
          continue;
        }
        if (t <= after || t > to) continue;
      }
      const r = piValueToSample(tag.nodeId, item);
      if (!r.ok) {
        this.hooks.onBadInput('HISTORIAN.BAD_VALUE');
        this.hooks.logger.warn({ point: tag.key, request: what, code: 'HISTORIAN.BAD_VALUE', problem: r.problem }, `HISTORIAN.BAD_VALUE: ${tag.key} in ${what}: ${r.problem}; value skipped`);
        continue;
      }
      samples.push(r.sample);
      lastTime = r.time;
    }
    return { samples, ...(lastTime !== undefined ? { lastTime } : {}), ...(lastRawTime !== undefined ? { lastRawTime } : {}), atLast };
  }

  reset(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
