import { fields } from '@weir/config';
import { z } from 'zod';
import { SECURITY_MODES, SECURITY_POLICIES, type UserIdentity } from '../session/connect';
import type { BrowseRule, EventSource, MonitoredNode, NodeDefaults, SourceConfig } from './node-set';
import { normalizeNodeId } from './node-id';

/** A node id in settings, normalised (`ns=`/`nsu=` forms, ids of every type); an unreadable one is a settings error. */
export const nodeIdText = z.string().transform((v, ctx) => {
  const n = normalizeNodeId(v);
  if (!n.ok) {
    ctx.addIssue({ code: 'custom', message: n.problem });
    return z.NEVER;
  }
  return n.nodeId;
});

const regexText = fields.regex();

/** Per-node settings; every one optional, filled from the source's `defaults` and then the built-in ones. */
export const nodeOptionsSchema = z.object({
  /** Server-side sampling interval (`0` = every change, the default; `-1` = the publishing interval). */
  samplingInterval: z.union([z.literal(-1), fields.durationMs()]).optional(),
  /** Publishing interval of the subscription; nodes with the same one share a subscription. */
  publishingInterval: fields.durationMs().optional(),
  /** Server-side queue size of the monitored item. */
  queueSize: fields.int({ min: 0, max: 100_000 }).optional(),
  /** On queue overflow drop the oldest value (true) or the newest. */
  discardOldest: fields.bool().optional(),
  dataChangeTrigger: z.enum(['Status', 'StatusValue', 'StatusValueTimestamp']).optional(),
  /** Deadband filter: `{ type: absolute | percent, value }`. */
  deadband: z.object({ type: z.enum(['absolute', 'percent', 'Absolute', 'Percent']), value: z.number().nonnegative() }).optional(),
  /** Repeat the last value when nothing changed for this long; `0` = off. */
  heartbeatInterval: fields.durationMs().optional(),
  /** Do not forward the first value after the item is created. */
  skipFirst: fields.bool().optional(),
});

const nodeSchema = nodeOptionsSchema.extend({
  nodeId: nodeIdText,
  displayName: z.string().optional(),
  indexRange: z.string().optional(),
});

const authSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('anonymous') }),
  z.object({ type: z.literal('username'), username: z.string().min(1), password: z.string() }),
  z.object({ type: z.literal('certificate'), certificateFile: z.string().min(1), privateKeyFile: z.string().min(1) }),
]);

/** One OPC UA endpoint as written in the connector's YAML. */
export const sourceSettingsSchema = z
  .object({
    /** Source id samples carry (`plant-hamburg`); letters, digits and `. _ : / -`. */
    id: z.string().min(1).max(200).regex(/^[A-Za-z0-9._:/-]+$/, 'letters, digits and . _ : / - only'),
    endpointUrl: z.string().regex(/^opc\.tcp:\/\/[^/\s]+/, 'must be an opc.tcp:// URL'),
    securityMode: z.enum(SECURITY_MODES).default('SignAndEncrypt'),
    securityPolicy: z.enum(SECURITY_POLICIES).default('Basic256Sha256'),
    /** Login: `{ type: anonymous }` (default), `{ type: username, username, password }` or `{ type: certificate, certificateFile, privateKeyFile }`. */
    auth: authSchema.default({ type: 'anonymous' }),
    /** Settings for nodes of this source that do not state their own. */
    defaults: nodeOptionsSchema.default({}),
    /** Variables to monitor: a NodeId string or an object with per-node settings. */
    nodes: z.array(z.preprocess((v) => (typeof v === 'string' ? { nodeId: v } : v), nodeSchema)).default([]),
    /** Event notifiers to subscribe (alarms & conditions, audit events, model changes). */
    events: z
      .array(
        z.object({
          notifier: nodeIdText.default('i=2253'),
          /** Only events of this type and its subtypes. */
          typeDefinitionId: nodeIdText.optional(),
          publishingInterval: fields.durationMs().default(1000),
          queueSize: fields.int({ min: 1, max: 100_000 }).default(10_000),
          /** Extra event fields to select, each a browse name `Name`, `<index>:Name` or `<namespace uri>#Name` (dots separate path segments of names without a URI). */
          fields: z.array(z.string().min(1)).default([]),
        }),
      )
      .default([]),
    /** Subtrees whose variables are monitored; browsed at connect, on model-change events and every `rebrowseInterval`. */
    browse: z
      .array(
        nodeOptionsSchema.extend({
          root: nodeIdText,
          maxDepth: fields.int({ min: 1, max: 50 }).default(10),
          include: regexText.optional(),
          exclude: regexText.optional(),
          includeProperties: fields.bool().default(false),
          rebrowseInterval: fields.durationMs().default(0),
        }),
      )
      .default([]),
  })
  .superRefine((s, ctx) => {
    if ((s.securityMode === 'None') !== (s.securityPolicy === 'None')) {
      ctx.addIssue({ code: 'custom', path: ['securityPolicy'], message: `security mode ${s.securityMode} cannot be used with policy ${s.securityPolicy}` });
    }
  });
/** A source as written in YAML. */
export type SourceSettings = z.infer<typeof sourceSettingsSchema>;
/** Per-node options as written. */
export type NodeOptions = z.infer<typeof nodeOptionsSchema>;

/** Defaults of our YAML: every change (sampling 0), 1 s publishing, queue 100 so nothing is dropped between publishes. */
export const YAML_NODE_DEFAULTS: NodeDefaults = {
  samplingIntervalMs: 0,
  publishingIntervalMs: 1000,
  queueSize: 100,
  discardOldest: true,
  dataChangeTrigger: 'StatusValue',
  heartbeatIntervalMs: 0,
  skipFirst: false,
};

/** Applies written node options over defaults. */
export function applyNodeOptions(base: NodeDefaults, o: NodeOptions): NodeDefaults {
  const out: NodeDefaults = { ...base };
  if (o.samplingInterval !== undefined) out.samplingIntervalMs = o.samplingInterval;
  if (o.publishingInterval !== undefined) out.publishingIntervalMs = o.publishingInterval;
  if (o.queueSize !== undefined) out.queueSize = o.queueSize;
  if (o.discardOldest !== undefined) out.discardOldest = o.discardOldest;
  if (o.dataChangeTrigger !== undefined) out.dataChangeTrigger = o.dataChangeTrigger;
  if (o.deadband !== undefined) out.deadband = { type: o.deadband.type.toLowerCase() === 'percent' ? 'Percent' : 'Absolute', value: o.deadband.value };
  if (o.heartbeatInterval !== undefined) out.heartbeatIntervalMs = o.heartbeatInterval;
  if (o.skipFirst !== undefined) out.skipFirst = o.skipFirst;
  return out;
}

/** An extra event field as written (`<uri>#Name`, `2:Name`, `Name.Sub`) as a select clause path; its name is the last segment without namespace. */
export function eventField(text: string): { typeDefinitionId: string; browsePath: string[]; name: string } {
  const browsePath = text.includes('#') ? [text] : text.split('.');
  const last = browsePath[browsePath.length - 1]!;
  return { typeDefinitionId: 'i=2041', browsePath, name: last.slice(last.lastIndexOf('#') + 1).replace(/^\d+:/, '') };
}

/** Turns a parsed YAML source into the form the connector runs. */
export function toSourceConfig(s: SourceSettings, origin: string): SourceConfig {
  const defaults = applyNodeOptions(YAML_NODE_DEFAULTS, s.defaults);
  const seen = new Set<string>();
  const nodes: MonitoredNode[] = [];
  for (const n of s.nodes) {
    const node: MonitoredNode = { nodeId: n.nodeId, ...applyNodeOptions(defaults, n) };
    if (n.displayName) node.displayName = n.displayName;
    if (n.indexRange) node.indexRange = n.indexRange;
    if (seen.has(node.nodeId)) continue;
    seen.add(node.nodeId);
    nodes.push(node);
  }
  const events: EventSource[] = s.events.map((e) => ({
    notifierId: e.notifier,
    publishingIntervalMs: e.publishingInterval,
    queueSize: e.queueSize,
    ...(e.typeDefinitionId ? { typeDefinitionId: e.typeDefinitionId } : {}),
    ...(e.fields.length > 0 ? { extraFields: e.fields.map(eventField) } : {}),
  }));
  const browse: BrowseRule[] = s.browse.map((b) => ({
    rootNodeId: b.root,
    maxDepth: b.maxDepth,
    includeProperties: b.includeProperties,
    rebrowseIntervalMs: b.rebrowseInterval,
    defaults: applyNodeOptions(defaults, b),
    ...(b.include ? { include: b.include } : {}),
    ...(b.exclude ? { exclude: b.exclude } : {}),
  }));
  const identity: UserIdentity = s.auth;
  return { id: s.id, endpointUrl: s.endpointUrl, securityMode: s.securityMode, securityPolicy: s.securityPolicy, identity, nodes, events, browse, origin };
}
