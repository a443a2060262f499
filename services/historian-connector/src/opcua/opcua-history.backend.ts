import { connectReadOnly, discoverVariables, readRawHistoryPages, resolveConfiguredNodeId, variantToJson, YAML_NODE_DEFAULTS, type ClientPki, type ReadOnlyConnection } from '@weir/opcua';
import type { DataValue, NodeId } from 'node-opcua';
import type { OpcuaSourceSettings } from '../config';
import { HistorianError } from '../errors';
import type { HistoryBackend, RangePage, TagRef } from '../core/range-runner';
import type { SourceSample } from '../core/source';

/** A DataValue from HistoryRead as a sample (value as JSON, status code, both timestamps). */
export function dataValueToSample(nodeId: string, dv: DataValue, browsePath?: string): { sample: SourceSample; time: number } {
  const source = dv.sourceTimestamp ?? dv.serverTimestamp;
  const time = source ? source.getTime() : 0;
  const { value, dataType } = variantToJson(dv.value);
  const sample: SourceSample = {
    nodeId,
    value,
    dataType,
    status: dv.statusCode.value >>> 0,
    sourceTime: new Date(time).toISOString(),
    ...(dv.serverTimestamp ? { serverTime: dv.serverTimestamp.toISOString() } : {}),
    ...(browsePath ? { browsePath } : {}),
  };
  return { sample, time };
}

/**
 * OPC UA Historical Access through the read-only session of `@weir/opcua`:
 * configured nodes plus the variables of browsed subtrees, read with
 * HistoryRead (raw) answer by answer, following continuation points.
 */
export class OpcuaHistoryBackend implements HistoryBackend {
  private conn: ReadOnlyConnection | undefined;
  private nodeIds = new Map<string, NodeId>();
  private lostReason: string | undefined;

  constructor(
    private readonly settings: OpcuaSourceSettings,
    private readonly pki: ClientPki,
    private readonly client: { applicationUri: string; applicationName: string; connectTimeoutMs: number },
  ) {}

  async connect(): Promise<TagRef[]> {
    if (this.conn) await this.reset();
    const s = this.settings;
    const conn = await connectReadOnly({
      endpointUrl: s.endpointUrl,
      securityMode: s.securityMode,
      securityPolicy: s.securityPolicy,
      identity: s.auth.type === 'username' ? { type: 'username', username: s.auth.username, password: s.auth.password } : { type: 'anonymous' },
      pki: this.pki,
      applicationUri: this.client.applicationUri,
      applicationName: this.client.applicationName,
      sessionName: `weir-historian-connector:${s.id}`,
      connectTimeoutMs: this.client.connectTimeoutMs,
    });
    try {
      const tags = new Map<string, TagRef>();
      const ids = new Map<string, NodeId>();
      for (const n of s.nodes) {
        tags.set(n, { key: n, nodeId: n });
        ids.set(n, resolveConfiguredNodeId(n, conn.namespaces));
      }
      const maxNodesPerBrowse = conn.limits.maxNodesPerBrowse > 0 ? Math.min(conn.limits.maxNodesPerBrowse, 1000) : 1000;
      for (const b of s.browse) {
        const root = resolveConfiguredNodeId(b.root, conn.namespaces);
        const found = await discoverVariables(
          conn.session,
          { rootNodeId: b.root, maxDepth: b.maxDepth, includeProperties: false, rebrowseIntervalMs: 0, defaults: YAML_NODE_DEFAULTS, ...(b.include ? { include: b.include } : {}), ...(b.exclude ? { exclude: b.exclude } : {}) },
          root,
          { maxNodesPerBrowse, namespaces: conn.namespaces },
        );
        for (const v of found) {
          if (tags.has(v.nodeId)) continue;
          tags.set(v.nodeId, { key: v.nodeId, nodeId: v.nodeId, browsePath: v.browsePath });
          ids.set(v.nodeId, resolveConfiguredNodeId(v.nodeId, conn.namespaces));
        }
      }
      this.conn = conn;
      this.nodeIds = ids;
      this.lostReason = undefined;
      conn.onLost((reason) => (this.lostReason = reason));
      return [...tags.values()];
    } catch (err) {
      await conn.close();
      throw new HistorianError('HISTORIAN.UNREACHABLE', `${s.endpointUrl}: finding the nodes failed: ${String(err instanceof Error ? err.message : err)}`, { retryable: true }, { cause: err });
    }
  }

  async *read(tags: readonly TagRef[], after: ReadonlyMap<string, number>, to: number): AsyncGenerator<RangePage[]> {
    const conn = this.conn;
    if (!conn) throw new HistorianError('HISTORIAN.UNREACHABLE', `${this.settings.endpointUrl}: not connected`, { retryable: true });
    const byKey = new Map(tags.map((t) => [t.key, t]));
    const perCall = conn.limits.maxNodesPerHistoryReadData > 0 ? Math.min(this.settings.nodesPerCall, conn.limits.maxNodesPerHistoryReadData) : this.settings.nodesPerCall;
    const requests = tags.map((t) => ({ key: t.key, nodeId: this.nodeIds.get(t.key)!, after: after.get(t.key)! }));
    for await (const answer of readRawHistoryPages(conn.session, requests, to, { nodesPerCall: perCall, valuesPerNode: this.settings.valuesPerNode })) {
      const page: RangePage[] = [];
      let failed = 0;
      for (const a of answer) {
        const tag = byKey.get(a.key)!;
        if (!a.ok) {
          failed++;
          page.push({ key: a.key, samples: [], done: true, error: a.status });
          continue;
        }
        const samples: SourceSample[] = new Array<SourceSample>(a.values.length);
        let lastTime: number | undefined;
        for (let i = 0; i < a.values.length; i++) {
          const { sample, time } = dataValueToSample(tag.nodeId, a.values[i]!, tag.browsePath);
          samples[i] = sample;
          lastTime = time;
        }
        page.push({ key: a.key, samples, done: a.done, ...(lastTime !== undefined ? { lastTime } : {}) });
      }
      // Every node of an answer failed the same way because the call failed: that is the connection, not the nodes.
      if (failed === answer.length && answer.length > 0 && this.lostReason !== undefined) {
        throw new HistorianError('HISTORIAN.HISTORY_READ_FAILED', `${this.settings.endpointUrl}: HistoryRead failed: ${answer[0]!.status}`, { retryable: true });
      }
      yield page;
    }
  }

  async reset(): Promise<void> {
    const conn = this.conn;
    this.conn = undefined;
    await conn?.close();
  }

  async close(): Promise<void> {
    await this.reset();
  }
}
