import type { SecurityModeName, SecurityPolicyName, UserIdentity } from '../session/connect';

/** Which changes of a value the server reports (OPC UA DataChangeTrigger). */
export type DataChangeTriggerName = 'Status' | 'StatusValue' | 'StatusValueTimestamp';

/** A deadband on numeric values: absolute in the value's unit, or percent of its EURange. */
export interface Deadband {
  type: 'Absolute' | 'Percent';
  value: number;
}

/** How one variable is monitored. Intervals in milliseconds. */
export interface MonitoredNode {
  /** NodeId as configured (`ns=2;s=X`, `nsu=urn:x;s=X`, `i=2258`); samples carry it unchanged. */
  nodeId: string;
  /** Optional label from the configuration (publishednodes `DisplayName`). */
  displayName?: string;
  /** Server-side sampling interval; 0 = exception-based (every change), -1 = the publishing interval. */
  samplingIntervalMs: number;
  /** Publishing interval of the subscription the item goes in (items are grouped by it). */
  publishingIntervalMs: number;
  /** Server-side queue of the monitored item. */
  queueSize: number;
  /** When the server queue overflows: drop the oldest (true, OPC UA default) or the newest value. */
  discardOldest: boolean;
  dataChangeTrigger: DataChangeTriggerName;
  deadband?: Deadband;
  /** Repeat the last value when nothing changed for this long; 0 = off. */
  heartbeatIntervalMs: number;
  /** Do not forward the first value the server sends after the item is created. */
  skipFirst: boolean;
  /** Numeric range of an array value to monitor (`1:3`), if any. */
  indexRange?: string;
}

/** Where events come from and which ones. */
export interface EventSource {
  /** The notifier to subscribe (the Server object `i=2253`, an area, a machine). */
  notifierId: string;
  displayName?: string;
  /** Only events of this type or a subtype (an `OfType` where clause); all when absent. */
  typeDefinitionId?: string;
  /** An advanced where clause (publishednodes `EventFilter.WhereClause`), converted when subscribing. */
  whereClause?: WhereClause;
  /** Extra fields to select, as `TypeDefinitionId` + browse path; they land in the event's attributes. */
  extraFields?: Array<{ typeDefinitionId: string; browsePath: string[]; name: string }>;
  publishingIntervalMs: number;
  queueSize: number;
}

/** One element of a where clause (OPC UA ContentFilterElement). */
export interface WhereElement {
  /** FilterOperator name (`OfType`, `Equals`, `And`, `GreaterThan`, ...). */
  operator: string;
  operands: WhereOperand[];
}

/** An operand of a where-clause element. */
export type WhereOperand =
  | { kind: 'literal'; value: unknown }
  | { kind: 'element'; index: number }
  | { kind: 'attribute'; typeDefinitionId: string; browsePath: string[]; attribute: string };

/** A where clause: its first element is the root. */
export interface WhereClause {
  elements: WhereElement[];
}

/** Browse-based discovery: every variable below `rootNodeId` is monitored with `defaults`. */
export interface BrowseRule {
  rootNodeId: string;
  /** Levels below the root to follow (the root's children are level 1). */
  maxDepth: number;
  /** Only variables whose browse path (`Plant/Site01/.../Temperature`) matches. */
  include?: string;
  /** Skip variables (and subtrees) whose browse path matches. */
  exclude?: string;
  /** Also monitor properties (HasProperty children such as EURange); off by default. */
  includeProperties: boolean;
  /** Browse again this often (0 = only on model-change events and at connect). */
  rebrowseIntervalMs: number;
  defaults: NodeDefaults;
}

/** Per-node settings used where a node does not state its own. */
export type NodeDefaults = Omit<MonitoredNode, 'nodeId' | 'displayName' | 'indexRange'>;

/** One OPC UA endpoint with the nodes, events and browse rules to read from it. */
export interface SourceConfig {
  /** The source id samples carry. */
  id: string;
  endpointUrl: string;
  securityMode: SecurityModeName;
  securityPolicy: SecurityPolicyName;
  identity: UserIdentity;
  nodes: MonitoredNode[];
  events: EventSource[];
  browse: BrowseRule[];
  /** Where it was configured (file and entry), for messages. */
  origin: string;
}

/** Defaults the OPC Publisher documentation states for publishednodes.json. */
export const PUBLISHED_NODES_DEFAULTS: NodeDefaults = {
  samplingIntervalMs: 1000,
  publishingIntervalMs: 1000,
  queueSize: 1,
  discardOldest: true,
  dataChangeTrigger: 'StatusValue',
  heartbeatIntervalMs: 0,
  skipFirst: false,
};
