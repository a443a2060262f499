import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SECURITY_POLICIES, type SecurityModeName, type SecurityPolicyName, type UserIdentity } from '../session/connect';
import { errorMessage, OpcuaError } from '../opcua-error';
import { PUBLISHED_NODES_DEFAULTS, type DataChangeTriggerName, type EventSource, type MonitoredNode, type NodeDefaults, type SourceConfig, type WhereClause, type WhereOperand } from './node-set';
import { normalizeNodeId } from './node-id';
import { parseTimespan } from './timespan';

/** How publishednodes.json entries become sources. */
export interface PublishedNodesOptions {
  /** Defaults for what an entry or node leaves out; the OPC Publisher documentation's defaults otherwise. */
  defaults?: Partial<NodeDefaults>;
  /**
   * Folder of user certificates for `OpcAuthenticationMode: Certificate`:
   * `<subject>.pem` and `<subject>.key`, where subject is `OpcAuthenticationUsername`.
   */
  userCertificateDir?: string;
}

/** The sources of a publishednodes.json and what was ignored. */
export interface PublishedNodesResult {
  sources: SourceConfig[];
  /** Fields not used (unknown keys, duplicate nodes, options without effect here), one line each with its place. */
  warnings: string[];
}

// Keys the OPC Publisher 2.9 schema documents that shape its own messages or transport, not what is read:
// accepted and ignored, so a real file loads without noise.
const IGNORED_ENTRY_KEYS = new Set(
  [
    'DataSetWriterId', 'DataSetClassId', 'DataSetName', 'DataSetDescription', 'DataSetKeyFrameCount', 'DataSetExtensionFields', 'MetaDataUpdateTime',
    'MetaDataUpdateTimeTimespan', 'SendKeepAliveDataSetMessages', 'MessageEncoding', 'MessagingMode', 'WriterGroupTransport', 'WriterGroupQualityOfService',
    'BatchSize', 'BatchTriggerInterval', 'BatchTriggerIntervalTimespan', 'Version', 'LastChangeTimespan', 'LastChangeDateTime', 'Priority', 'DataSetRouting',
    'WriterGroupPartitions', 'QualityOfService', 'QueueName', 'DisableSubscriptionTransfer', 'DumpConnectionDiagnostics', 'UseReverseConnect',
  ].map((k) => k.toLowerCase()),
);
const ENTRY_KEYS = new Set(
  [
    'EndpointUrl', 'UseSecurity', 'EndpointSecurityMode', 'EndpointSecurityPolicy', 'OpcAuthenticationMode', 'OpcAuthenticationUsername', 'OpcAuthenticationPassword',
    'EncryptedAuthUsername', 'EncryptedAuthPassword', 'DataSetWriterGroup', 'DataSetPublishingInterval', 'DataSetPublishingIntervalTimespan', 'DataSetSamplingInterval',
    'DataSetSamplingIntervalTimespan', 'OpcNodes', 'NodeId',
  ].map((k) => k.toLowerCase()),
);
const IGNORED_NODE_KEYS = new Set(
  ['RegisterNode', 'FetchDisplayName', 'DataSetFieldId', 'DataSetClassFieldId', 'ConditionHandling', 'CyclicReadMaxAge', 'CyclicReadMaxAgeTimespan', 'TriggeredNodes', 'ModelChangeHandling', 'BrowsePath', 'HeartbeatBehavior'].map((k) => k.toLowerCase()),
);
const NODE_KEYS = new Set(
  [
    'Id', 'ExpandedNodeId', 'AttributeId', 'IndexRange', 'UseCyclicRead', 'OpcSamplingInterval', 'OpcSamplingIntervalTimespan', 'OpcPublishingInterval', 'OpcPublishingIntervalTimespan',
    'DisplayName', 'SkipFirst', 'DiscardNew', 'HeartbeatInterval', 'HeartbeatIntervalTimespan', 'QueueSize', 'DataChangeTrigger', 'DeadbandType', 'DeadbandValue', 'EventFilter',
  ].map((k) => k.toLowerCase()),
);

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Reads fields of one JSON object case-insensitively (OPC Publisher's .NET reader is), recording problems with their place. */
class FieldReader {
  private readonly byKey = new Map<string, { key: string; value: unknown }>();

  constructor(
    obj: Json,
    readonly where: string,
    private readonly issues: string[],
  ) {
    // The documentation itself writes some keys with a trailing space ("DataSetFieldId "): trim.
    for (const [k, v] of Object.entries(obj)) this.byKey.set(k.trim().toLowerCase(), { key: k, value: v });
  }

  keys(): string[] {
    return [...this.byKey.keys()];
  }

  originalKey(lower: string): string {
    return this.byKey.get(lower)?.key ?? lower;
  }

  raw(name: string): unknown {
    const v = this.byKey.get(name.toLowerCase())?.value;
    return v === null ? undefined : v;
  }

  problem(name: string, text: string): void {
    this.issues.push(`${this.where}: ${name} ${text}`);
  }

  str(name: string): string | undefined {
    const v = this.raw(name);
    if (v === undefined) return undefined;
    if (typeof v !== 'string') {
      this.problem(name, `must be a string, not ${JSON.stringify(v)}`);
      return undefined;
    }
    return v;
  }

  bool(name: string): boolean | undefined {
    const v = this.raw(name);
    if (v === undefined) return undefined;
    if (typeof v === 'boolean') return v;
    if (typeof v === 'string' && /^(true|false)$/i.test(v)) return v.toLowerCase() === 'true';
    this.problem(name, `must be true or false, not ${JSON.stringify(v)}`);
    return undefined;
  }

  num(name: string, opts: { int?: boolean; min?: number } = {}): number | undefined {
    const v = this.raw(name);
    if (v === undefined) return undefined;
    const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
    if (!Number.isFinite(n) || (opts.int && !Number.isInteger(n))) {
      this.problem(name, `must be ${opts.int ? 'an integer' : 'a number'}, not ${JSON.stringify(v)}`);
      return undefined;
    }
    if (opts.min !== undefined && n < opts.min) {
      this.problem(name, `must be at least ${opts.min}, not ${n}`);
      return undefined;
    }
    return n;
  }

  /** An interval given as `<name>` (a number of `unitMs`) or `<name>Timespan` (a TimeSpan string); the Timespan wins, as documented. */
  interval(name: string, unitMs = 1): number | undefined {
    const ts = this.raw(`${name}Timespan`);
    if (ts !== undefined) {
      const ms = typeof ts === 'string' ? parseTimespan(ts) : undefined;
      if (ms === undefined || ms < 0) {
        this.problem(`${name}Timespan`, `${JSON.stringify(ts)} is not a TimeSpan ([d.]hh:mm:ss[.fff])`);
        return undefined;
      }
      return ms;
    }
    const n = this.num(name, { min: -1 });
    return n === undefined ? undefined : n * unitMs;
  }

  /** Case-insensitive enum value, returned in its canonical spelling. */
  oneOf<T extends string>(name: string, values: readonly T[]): T | undefined {
    const v = this.str(name);
    if (v === undefined) return undefined;
    const hit = values.find((x) => x.toLowerCase() === v.trim().toLowerCase());
    if (!hit) this.problem(name, `must be one of ${values.join(', ')}, not "${v}"`);
    return hit;
  }
}

const sanitizeId = (text: string): string => text.replace(/[^A-Za-z0-9._:/-]/g, '_').slice(0, 200);

const POLICY_URI_PREFIX = 'http://opcfoundation.org/UA/SecurityPolicy#';

function parseSecurity(f: FieldReader): { securityMode: SecurityModeName; securityPolicy: SecurityPolicyName } {
  const useSecurity = f.bool('UseSecurity') ?? false;
  const modeText = f.oneOf('EndpointSecurityMode', ['None', 'Sign', 'SignAndEncrypt', 'Best', 'SignOrSignAndEncrypt'] as const);
  // "Best" may choose None at OPC Publisher when the server offers nothing better; we never silently drop to None.
  const mode: SecurityModeName = modeText === undefined ? (useSecurity ? 'SignAndEncrypt' : 'None') : modeText === 'Best' || modeText === 'SignOrSignAndEncrypt' ? 'SignAndEncrypt' : modeText;
  const policyText = f.str('EndpointSecurityPolicy');
  let policy: SecurityPolicyName | undefined;
  if (policyText !== undefined) {
    const name = policyText.startsWith(POLICY_URI_PREFIX) ? policyText.slice(POLICY_URI_PREFIX.length) : policyText;
    policy = SECURITY_POLICIES.find((p) => p.toLowerCase() === name.trim().toLowerCase());
    if (!policy) f.problem('EndpointSecurityPolicy', `"${policyText}" is not a known security policy (${SECURITY_POLICIES.join(', ')}, or its URI)`);
  }
  if (mode === 'None') {
    if (policy !== undefined && policy !== 'None') f.problem('EndpointSecurityPolicy', `${policy} needs a security mode other than None`);
    return { securityMode: 'None', securityPolicy: 'None' };
  }
  if (policy === 'None') f.problem('EndpointSecurityPolicy', `None cannot be used with security mode ${mode}`);
  return { securityMode: mode, securityPolicy: policy && policy !== 'None' ? policy : 'Basic256Sha256' };
}

function parseIdentity(f: FieldReader, options: PublishedNodesOptions): UserIdentity {
  if (f.raw('EncryptedAuthUsername') !== undefined || f.raw('EncryptedAuthPassword') !== undefined) {
    f.problem('EncryptedAuthUsername/EncryptedAuthPassword', 'hold credentials encrypted by OPC Publisher ≤ 2.5 with its own key, which cannot be decrypted here; use OpcAuthenticationUsername/OpcAuthenticationPassword');
  }
  const mode = f.oneOf('OpcAuthenticationMode', ['Anonymous', 'UsernamePassword', 'Certificate'] as const) ?? 'Anonymous';
  const username = f.str('OpcAuthenticationUsername');
  const password = f.str('OpcAuthenticationPassword');
  if (mode === 'UsernamePassword') {
    if (!username) f.problem('OpcAuthenticationUsername', 'is required with OpcAuthenticationMode UsernamePassword');
    return { type: 'username', username: username ?? '', password: password ?? '' };
  }
  if (mode === 'Certificate') {
    if (!username) f.problem('OpcAuthenticationUsername', 'must name the user certificate (its subject) with OpcAuthenticationMode Certificate');
    if (!options.userCertificateDir) f.problem('OpcAuthenticationMode', 'Certificate needs a user certificate folder (the connector setting opcua.userCertificateDir)');
    const dir = options.userCertificateDir ?? '.';
    const base = sanitizeId(username ?? '');
    return { type: 'certificate', certificateFile: join(dir, `${base}.pem`), privateKeyFile: join(dir, `${base}.key`) };
  }
  return { type: 'anonymous' };
}

function parseWhereClause(f: FieldReader, value: unknown, issues: string[]): WhereClause | undefined {
  if (!isObject(value)) {
    f.problem('EventFilter.WhereClause', 'must be an object with Elements');
    return undefined;
  }
  const w = new FieldReader(value, `${f.where} EventFilter.WhereClause`, issues);
  const elements = w.raw('Elements');
  if (!Array.isArray(elements)) {
    w.problem('Elements', 'must be a list');
    return undefined;
  }
  const out: WhereClause = { elements: [] };
  elements.forEach((el, i) => {
    if (!isObject(el)) {
      w.problem(`Elements[${i}]`, 'must be an object');
      return;
    }
    const e = new FieldReader(el, `${w.where}.Elements[${i}]`, issues);
    const operator = e.str('FilterOperator');
    const operands = e.raw('FilterOperands');
    if (!operator) e.problem('FilterOperator', 'is required');
    const parsed: WhereOperand[] = [];
    if (operands !== undefined && !Array.isArray(operands)) e.problem('FilterOperands', 'must be a list');
    (Array.isArray(operands) ? operands : []).forEach((op, j) => {
      if (!isObject(op)) {
        e.problem(`FilterOperands[${j}]`, 'must be an object');
        return;
      }
      const o = new FieldReader(op, `${e.where}.FilterOperands[${j}]`, issues);
      const index = o.num('Index', { int: true, min: 0 });
      if (index !== undefined) parsed.push({ kind: 'element', index });
      else if (o.raw('Value') !== undefined) parsed.push({ kind: 'literal', value: o.raw('Value') });
      else if (o.raw('BrowsePath') !== undefined || o.raw('NodeId') !== undefined || o.raw('TypeDefinitionId') !== undefined) {
        const bp = o.raw('BrowsePath');
        const browsePath = Array.isArray(bp) ? bp.map((x) => String(x).replace(/^\//, '')) : [];
        parsed.push({ kind: 'attribute', typeDefinitionId: o.str('TypeDefinitionId') ?? o.str('NodeId') ?? 'i=2041', browsePath, attribute: o.str('AttributeId') ?? 'Value' });
      } else o.problem('(operand)', 'needs Index, Value, or NodeId/TypeDefinitionId with BrowsePath');
    });
    if (operator) out.elements.push({ operator, operands: parsed });
  });
  return out;
}

function parseEventFilter(f: FieldReader, notifierId: string, displayName: string | undefined, defaults: NodeDefaults, publishingIntervalMs: number, queueSize: number | undefined, issues: string[]): EventSource | undefined {
  const value = f.raw('EventFilter');
  if (!isObject(value)) {
    f.problem('EventFilter', 'must be an object (TypeDefinitionId, or SelectClauses and WhereClause)');
    return undefined;
  }
  const e = new FieldReader(value, `${f.where} EventFilter`, issues);
  const ev: EventSource = { notifierId, publishingIntervalMs, queueSize: queueSize ?? Math.max(defaults.queueSize, 1000) };
  if (displayName) ev.displayName = displayName;
  const typeDefinitionId = e.str('TypeDefinitionId');
  if (typeDefinitionId) {
    const n = normalizeNodeId(typeDefinitionId);
    if (n.ok) ev.typeDefinitionId = n.nodeId;
    else e.problem('TypeDefinitionId', n.problem);
  }
  const select = e.raw('SelectClauses');
  if (select !== undefined) {
    if (!Array.isArray(select)) e.problem('SelectClauses', 'must be a list');
    else {
      ev.extraFields = [];
      select.forEach((clause, i) => {
        if (!isObject(clause)) return e.problem(`SelectClauses[${i}]`, 'must be an object');
        const c = new FieldReader(clause, `${e.where}.SelectClauses[${i}]`, issues);
        const bp = c.raw('BrowsePath');
        if (!Array.isArray(bp) || bp.length === 0) return c.problem('BrowsePath', 'must be a non-empty list of browse names');
        const browsePath = bp.map((x) => String(x).replace(/^\//, ''));
        ev.extraFields!.push({ typeDefinitionId: c.str('TypeDefinitionId') ?? 'i=2041', browsePath, name: browsePath.join('.') });
      });
    }
  }
  const where = e.raw('WhereClause');
  if (where !== undefined) {
    const parsed = parseWhereClause(e, where, issues);
    if (parsed) ev.whereClause = parsed;
  }
  return ev;
}

/**
 * Converts an OPC Publisher publishednodes.json (schema 2.9, and the older
 * forms it still reads: the 2.5 `NodeId: { Identifier }` entry, `ExpandedNodeId`,
 * `<uri>#<id>` ids) into sources. Entries with the same DataSetWriterGroup,
 * endpoint, security and login share one source (one session, as OPC
 * Publisher scopes sessions to a writer group); the source id is the
 * DataSetWriterGroup, or the endpoint URL when there is none. Every problem is
 * reported at once as `OPCUA.NODESET_INVALID`, each naming the file, the
 * entry and the field.
 */
export function parsePublishedNodes(json: unknown, file: string, options: PublishedNodesOptions = {}): PublishedNodesResult {
  const issues: string[] = [];
  const warnings: string[] = [];
  const defaults: NodeDefaults = { ...PUBLISHED_NODES_DEFAULTS, ...options.defaults };
  if (!Array.isArray(json)) {
    throw new OpcuaError('OPCUA.NODESET_INVALID', `${file}: must hold a JSON array of endpoint entries`);
  }
  const sources = new Map<string, SourceConfig & { key: string; seen: Set<string> }>();
  json.forEach((entry, entryIndex) => {
    const place = `${file}: entry ${entryIndex + 1}`;
    if (!isObject(entry)) {
      issues.push(`${place}: must be an object`);
      return;
    }
    const endpointUrl = typeof entry['EndpointUrl'] === 'string' ? entry['EndpointUrl'] : undefined;
    const f = new FieldReader(entry, endpointUrl ? `${place} (${endpointUrl})` : place, issues);
    const url = f.str('EndpointUrl');
    if (!url) f.problem('EndpointUrl', 'is required');
    else if (!/^opc\.tcp:\/\/[^/\s]+/.test(url)) f.problem('EndpointUrl', `"${url}" is not an opc.tcp:// URL`);
    for (const k of f.keys()) {
      if (!ENTRY_KEYS.has(k) && !IGNORED_ENTRY_KEYS.has(k)) warnings.push(`${f.where}: unknown field ${f.originalKey(k)} ignored`);
    }
    if (f.bool('UseReverseConnect')) f.problem('UseReverseConnect', 'is not supported: the connector listens on no port, it only connects out');
    const { securityMode, securityPolicy } = parseSecurity(f);
    const identity = parseIdentity(f, options);
    const group = f.str('DataSetWriterGroup');
    const entryPublishing = f.interval('DataSetPublishingInterval');
    const entrySampling = f.interval('DataSetSamplingInterval');

    const nodes: MonitoredNode[] = [];
    const events: EventSource[] = [];
    const rawNodes: unknown[] = [];
    const opcNodes = f.raw('OpcNodes');
    if (opcNodes !== undefined && !Array.isArray(opcNodes)) f.problem('OpcNodes', 'must be a list');
    else if (Array.isArray(opcNodes)) rawNodes.push(...opcNodes);
    // Publisher 2.5 and earlier: one node per entry as NodeId: { Identifier }.
    const legacy = f.raw('NodeId');
    if (legacy !== undefined) {
      if (isObject(legacy) && typeof (legacy['Identifier'] ?? legacy['identifier']) === 'string') rawNodes.push({ Id: legacy['Identifier'] ?? legacy['identifier'] });
      else f.problem('NodeId', 'must be { "Identifier": "<node id>" }');
    }
    if (rawNodes.length === 0) warnings.push(`${f.where}: no OpcNodes`);

    rawNodes.forEach((raw, nodeIndex) => {
      const nodePlace = `${f.where}, OpcNodes[${nodeIndex}]`;
      if (!isObject(raw)) {
        issues.push(`${nodePlace}: must be an object`);
        return;
      }
      const idText = typeof raw['Id'] === 'string' ? raw['Id'] : typeof raw['ExpandedNodeId'] === 'string' ? raw['ExpandedNodeId'] : undefined;
      const n = new FieldReader(raw, idText ? `${nodePlace} (${idText})` : nodePlace, issues);
      for (const k of n.keys()) {
        if (!NODE_KEYS.has(k) && !IGNORED_NODE_KEYS.has(k)) warnings.push(`${n.where}: unknown field ${n.originalKey(k)} ignored`);
      }
      const id = n.str('Id') ?? n.str('ExpandedNodeId');
      if (!id) {
        n.problem('Id', 'is required (or ExpandedNodeId)');
        return;
      }
      const normalized = normalizeNodeId(id);
      if (!normalized.ok) {
        n.problem(n.raw('Id') !== undefined ? 'Id' : 'ExpandedNodeId', normalized.problem);
        return;
      }
      const attribute = n.str('AttributeId');
      if (attribute !== undefined && !/^(value|13)$/i.test(attribute.trim())) n.problem('AttributeId', `"${attribute}": only Value is monitored`);
      if (n.bool('UseCyclicRead')) warnings.push(`${n.where}: UseCyclicRead is served by a subscription sampling at the same interval`);
      const displayName = n.str('DisplayName');
      const publishingIntervalMs = n.interval('OpcPublishingInterval') ?? entryPublishing ?? defaults.publishingIntervalMs;
      const queueSize = n.num('QueueSize', { int: true, min: 0 });
      if (n.raw('EventFilter') !== undefined) {
        const ev = parseEventFilter(n, normalized.nodeId, displayName, defaults, publishingIntervalMs, queueSize, issues);
        if (ev) events.push(ev);
        return;
      }
      const node: MonitoredNode = {
        nodeId: normalized.nodeId,
        samplingIntervalMs: n.interval('OpcSamplingInterval') ?? entrySampling ?? defaults.samplingIntervalMs,
        publishingIntervalMs,
        queueSize: queueSize ?? defaults.queueSize,
        discardOldest: !(n.bool('DiscardNew') ?? !defaults.discardOldest),
        dataChangeTrigger: n.oneOf<DataChangeTriggerName>('DataChangeTrigger', ['Status', 'StatusValue', 'StatusValueTimestamp']) ?? defaults.dataChangeTrigger,
        // HeartbeatInterval is in seconds in the 2.9 schema; HeartbeatIntervalTimespan is a TimeSpan.
        heartbeatIntervalMs: n.interval('HeartbeatInterval', 1000) ?? defaults.heartbeatIntervalMs,
        skipFirst: n.bool('SkipFirst') ?? defaults.skipFirst,
      };
      if (displayName) node.displayName = displayName;
      const indexRange = n.str('IndexRange');
      if (indexRange) node.indexRange = indexRange;
      const deadbandType = n.oneOf('DeadbandType', ['Absolute', 'Percent'] as const);
      if (deadbandType) {
        const v = n.num('DeadbandValue') ?? 1;
        // As documented: percent is clamped to 0..100, a negative absolute deadband is 0.
        node.deadband = { type: deadbandType, value: deadbandType === 'Percent' ? Math.min(100, Math.max(0, v)) : Math.max(0, v) };
      } else if (n.raw('DeadbandValue') !== undefined) warnings.push(`${n.where}: DeadbandValue without DeadbandType ignored`);
      if (node.heartbeatIntervalMs < 0) node.heartbeatIntervalMs = 0;
      nodes.push(node);
    });

    if (!url) return;
    const key = JSON.stringify([group ?? '', url, securityMode, securityPolicy, identity]);
    const id = sanitizeId(group ?? url);
    let source = sources.get(id);
    if (source && source.key !== key) {
      issues.push(`${f.where}: DataSetWriterGroup ${JSON.stringify(group ?? url)} is also used by an earlier entry with another endpoint, security or login; give each session its own DataSetWriterGroup`);
      return;
    }
    if (!source) {
      source = { id, key, seen: new Set(), endpointUrl: url, securityMode, securityPolicy, identity, nodes: [], events: [], browse: [], origin: `${file} entry ${entryIndex + 1}` };
      sources.set(id, source);
    }
    for (const node of nodes) {
      // Two monitored items for one node would produce every sample twice.
      if (source.seen.has(node.nodeId)) {
        warnings.push(`${f.where}: node ${node.nodeId} is configured twice for source ${id}; the first configuration is used`);
        continue;
      }
      source.seen.add(node.nodeId);
      source.nodes.push(node);
    }
    source.events.push(...events);
  });
  if (issues.length > 0) {
    const shown = issues.slice(0, 50);
    if (issues.length > 50) shown.push(`... and ${issues.length - 50} more`);
    throw new OpcuaError('OPCUA.NODESET_INVALID', `${issues.length} problem(s) in ${file}:\n${shown.map((i) => `  - ${i}`).join('\n')}`);
  }
  return { sources: [...sources.values()].map(({ key: _key, seen: _seen, ...s }) => s), warnings };
}

/** Reads and parses a publishednodes.json file; see `parsePublishedNodes`. */
export function loadPublishedNodesFile(file: string, options: PublishedNodesOptions = {}): PublishedNodesResult {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new OpcuaError('OPCUA.NODESET_INVALID', `${file}: cannot be read as JSON: ${errorMessage(err)}`, { cause: err });
  }
  return parsePublishedNodes(json, file, options);
}
