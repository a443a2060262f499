import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { JsonValue } from '@weir/contracts';
import { compileAssetMapping, type AssetMapper, type AssetMappingRule } from '@weir/domain';
import { z } from 'zod';
import { Caller, Requires } from '../auth/auth.guard';
import { siteFilter, type Principal } from '../auth/principal';
import { checkRange, timeRange } from '../common/query-fields';
import { SETTINGS } from '../common/tokens';
import { parseRequest } from '../common/validation';
import type { AnalyticsSettings } from '../config';
import { InventoryRepository } from './inventory.repository';

/** Levels of the register expected to send data themselves (lines and above aggregate their machines). */
const DATA_LEVELS = new Set(['cell', 'machine', 'equipment']);
const MAX_CLIENTS = 5000;
const MAX_EVENT_NODES = 50_000;

/** A duration `30m`, `24h`, `7d`. */
const duration = z
  .string()
  .regex(/^\d{1,5}(m|h|d)$/, 'must be a duration such as 30m, 24h or 7d')
  .transform((v) => Number(v.slice(0, -1)) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[v.slice(-1) as 'm' | 'h' | 'd']);

/** One endpoint a server offers (GetEndpoints), as the connector reports it. */
interface Endpoint {
  endpointUrl: string | null;
  securityMode: string | null;
  securityPolicyUri: string | null;
}

const text = (v: JsonValue | undefined): string | null => (typeof v === 'string' && v !== '' ? v : null);

/** Whether a security mode or policy means "no security": mode None, or the None policy URI. */
function insecure(mode: string | null, policy: string | null): boolean {
  return (mode !== null && /^none$/i.test(mode)) || (policy !== null && /#None$/i.test(policy)) || (policy !== null && /^none$/i.test(policy));
}

function endpointsOf(attributes: Record<string, JsonValue> | null): { current: Endpoint | null; offered: Endpoint[]; serverApplicationUri: string | null } {
  if (!attributes) return { current: null, offered: [], serverApplicationUri: null };
  const current = { endpointUrl: text(attributes['endpointUrl']), securityMode: text(attributes['securityMode']), securityPolicyUri: text(attributes['securityPolicyUri']) };
  const raw = attributes['endpoints'];
  const offered: Endpoint[] = Array.isArray(raw)
    ? raw.filter((e): e is Record<string, JsonValue> => e !== null && typeof e === 'object' && !Array.isArray(e)).map((e) => ({ endpointUrl: text(e['endpointUrl']), securityMode: text(e['securityMode']), securityPolicyUri: text(e['securityPolicyUri']) }))
    : [];
  return { current, offered, serverApplicationUri: text(attributes['serverApplicationUri']) };
}

@ApiTags('inventory')
@ApiSecurity('bearer')
@ApiSecurity('apiKey')
@Controller('v1/inventory')
export class InventoryController {
  private readonly query;
  private readonly mapper: AssetMapper | undefined;

  constructor(
    @Inject(SETTINGS) private readonly settings: AnalyticsSettings,
    @Inject(InventoryRepository) private readonly repo: InventoryRepository,
  ) {
    this.query = z.strictObject({ ...timeRange, silentAfter: duration.optional() }).superRefine((v, ctx) => checkRange(v, ctx, settings.api.limits.maxRangeMs));
    this.mapper = settings.hunt.assetMapping.length > 0 ? compileAssetMapping(settings.hunt.assetMapping as AssetMappingRule[]) : undefined;
  }

  @Get()
  @Requires('alerts:read')
  @ApiOperation({
    summary:
      'Asset visibility: OPC UA servers (sources) with their endpoints and security modes, OPC UA clients seen in audit events, and the ERP asset register reconciled with what was seen in from..to (seen but not registered, registered but silent). Endpoints without security are findings.',
  })
  @ApiQuery({ name: 'from' })
  @ApiQuery({ name: 'to' })
  @ApiQuery({ name: 'silentAfter', required: false, description: 'A registered asset without data or events for this long before to is silent (30m, 24h, 7d; default hunt.silentAfterMs)' })
  async inventory(@Caller() caller: Principal, @Query() query: unknown) {
    const q = parseRequest(this.query, query);
    const silentAfterMs = q.silentAfter ?? this.settings.hunt.silentAfterMs;
    const silentSince = q.to.getTime() - silentAfterMs;
    const sites = siteFilter(caller);
    const [connections, sourceSeries, seriesAssets, clientRows, eventNodes, registered] = await Promise.all([
      this.repo.sourceConnections(q.from, q.to),
      this.repo.sourceSeries(),
      this.repo.seriesAssets(),
      this.repo.clients(q.from, q.to, MAX_CLIENTS + 1),
      this.repo.eventNodes(q.from, q.to, MAX_EVENT_NODES),
      this.repo.registeredAssets(sites),
    ]);
    const registeredIds = new Set(registered.map((a) => a.asset_id));
    // A site-scoped caller sees the sources that carry data of its sites' assets.
    const seriesBySource = new Map(sourceSeries.map((s) => [s.source_id, s]));
    const sourceVisible = (sourceId: string): boolean => sites === null || (seriesBySource.get(sourceId)?.asset_ids.some((a) => registeredIds.has(a)) ?? false);

    // OT events per asset, through the correlator's asset mapping.
    const lastEventByAsset = new Map<string, string>();
    if (this.mapper) {
      for (const n of eventNodes) {
        const m = this.mapper.resolve({ sourceId: n.source_id, nodeId: n.node_id, ...(n.browse_path ? { browsePath: n.browse_path } : {}) });
        if (!m) continue;
        const prev = lastEventByAsset.get(m.assetId);
        if (!prev || prev < n.last_time) lastEventByAsset.set(m.assetId, n.last_time);
      }
    }

    const findings: { type: string; severity: 'high' | 'medium' | 'low'; sourceId?: string; assetId?: string; endpointUrl?: string | null; detail: string }[] = [];
    const sourceIds = [...new Set([...connections.map((c) => c.source_id), ...sourceSeries.filter((s) => s.last_seen !== null && Date.parse(s.last_seen) >= q.from.getTime()).map((s) => s.source_id)])].sort();
    const connBySource = new Map(connections.map((c) => [c.source_id, c]));
    const servers = sourceIds.filter(sourceVisible).map((sourceId) => {
      const c = connBySource.get(sourceId);
      const s = seriesBySource.get(sourceId);
      const { current, offered, serverApplicationUri } = endpointsOf(c?.connected_attributes ?? null);
      const endpoints = offered.map((e) => ({ ...e, insecure: insecure(e.securityMode, e.securityPolicyUri) }));
      for (const e of endpoints) {
        if (e.insecure) findings.push({ type: 'endpoint-without-security', severity: 'high', sourceId, endpointUrl: e.endpointUrl, detail: `server offers an endpoint with security mode ${e.securityMode ?? '?'} / policy ${e.securityPolicyUri ?? '?'}` });
      }
      if (current && insecure(current.securityMode, current.securityPolicyUri)) {
        findings.push({ type: 'connection-without-security', severity: 'high', sourceId, endpointUrl: current.endpointUrl, detail: `the connector's session uses security mode ${current.securityMode ?? '?'} / policy ${current.securityPolicyUri ?? '?'}` });
      }
      const state = c?.last_type ? (/connected$/.test(c.last_type) ? 'connected' : 'disconnected') : 'unknown';
      return {
        sourceId,
        serverApplicationUri,
        endpointUrl: current?.endpointUrl ?? null,
        securityMode: current?.securityMode ?? null,
        securityPolicyUri: current?.securityPolicyUri ?? null,
        endpoints,
        connection: { state, lastChange: c?.last_time ?? null, lastChangeType: c?.last_type ?? null, lastConnected: c?.connected_time ?? null },
        lastEvent: c?.last_event_time ?? null,
        otEvents: Number(c?.ot_events ?? 0),
        lastData: s?.last_seen ?? null,
        series: Number(s?.series ?? 0),
        unmappedSeries: Number(s?.unmapped_series ?? 0),
        assets: s?.asset_ids.filter((a) => sites === null || registeredIds.has(a)) ?? [],
      };
    });

    const clients = clientRows
      .slice(0, MAX_CLIENTS)
      .filter((r) => sourceVisible(r.source_id))
      .map((r) => {
        const withoutSecurity = r.security_policy_uris.filter((p) => insecure(null, p));
        if (withoutSecurity.length > 0) findings.push({ type: 'client-without-security', severity: 'medium', sourceId: r.source_id, detail: `client ${r.client_host ?? r.client_application_uri ?? '?'} opened sessions with security policy None` });
        if (r.users.some((u) => /^anonymous$/i.test(u))) findings.push({ type: 'anonymous-client', severity: 'medium', sourceId: r.source_id, detail: `client ${r.client_host ?? r.client_application_uri ?? '?'} used an anonymous session` });
        return {
          sourceId: r.source_id,
          clientHost: r.client_host,
          clientApplicationUri: r.client_application_uri,
          firstSeen: r.first_seen,
          lastSeen: r.last_seen,
          auditEvents: Number(r.events),
          users: r.users,
          securityPolicyUris: r.security_policy_uris,
          eventTypes: r.event_types,
        };
      });

    // Seen: series with samples in the window, OT events mapped to an asset.
    const seen = new Map<string, { lastData: string | null; lastEvent: string | null; sources: Set<string> }>();
    const note = (assetId: string, field: 'lastData' | 'lastEvent', time: string | null, sourceId: string | null): void => {
      const e = seen.get(assetId) ?? { lastData: null, lastEvent: null, sources: new Set<string>() };
      if (time && (!e[field] || e[field]! < time)) e[field] = time;
      if (sourceId) e.sources.add(sourceId);
      seen.set(assetId, e);
    };
    for (const a of seriesAssets) if (Date.parse(a.last_seen) >= q.from.getTime()) for (const src of a.sources) note(a.asset_id, 'lastData', a.last_seen, src);
    for (const [a, t] of lastEventByAsset) note(a, 'lastEvent', t, null);

    const unregisteredCandidates = [...seen.keys()].filter((a) => !registeredIds.has(a));
    const registeredNow = sites === null ? await this.repo.registeredNow(unregisteredCandidates) : new Set<string>();
    const seenNotRegistered =
      sites === null
        ? unregisteredCandidates
            .filter((a) => !registeredNow.has(a))
            .sort()
            .map((assetId) => ({ assetId, lastData: seen.get(assetId)!.lastData, lastEvent: seen.get(assetId)!.lastEvent, sources: [...seen.get(assetId)!.sources].sort() }))
        : [];
    for (const a of seenNotRegistered) findings.push({ type: 'seen-not-registered', severity: 'medium', assetId: a.assetId, detail: `asset ${a.assetId} sends data or events but is not in the ERP asset register` });

    const registeredSilent = registered
      .filter((a) => DATA_LEVELS.has(a.level) || Number(a.series) > 0)
      .map((a) => ({ a, lastData: a.last_data, lastEvent: lastEventByAsset.get(a.asset_id) ?? null }))
      .filter(({ lastData, lastEvent }) => (lastData === null || Date.parse(lastData) < silentSince) && (lastEvent === null || Date.parse(lastEvent) < silentSince))
      .map(({ a, lastData, lastEvent }) => ({ assetId: a.asset_id, name: a.name, level: a.level, path: a.path, siteId: a.site_id, series: Number(a.series), lastData, lastEvent }));
    for (const a of registeredSilent) findings.push({ type: 'registered-silent', severity: 'low', assetId: a.assetId, detail: `asset ${a.assetId} is registered but sent no data or events since ${new Date(silentSince).toISOString()}` });

    return {
      from: q.from.toISOString(),
      to: q.to.toISOString(),
      silentSince: new Date(silentSince).toISOString(),
      servers,
      clients,
      clientsTruncated: clientRows.length > MAX_CLIENTS,
      assets: {
        registered: registered.length,
        seen: [...seen.keys()].filter((a) => registeredIds.has(a)).length,
        seenNotRegistered,
        registeredSilent,
      },
      findings,
    };
  }
}
