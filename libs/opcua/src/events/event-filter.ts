import type { JsonValue } from '@weir/contracts';
import {
  AttributeIds,
  coerceNodeId,
  coerceQualifiedName,
  constructEventFilter,
  ContentFilter,
  ContentFilterElement,
  DataType,
  ElementOperand,
  FilterOperator,
  LiteralOperand,
  SimpleAttributeOperand,
  Variant,
  type EventFilter,
  type NodeId,
  type QualifiedNameOptions,
} from 'node-opcua';
import type { EventSource, WhereClause, WhereOperand } from '../nodeset/node-set';
import { anyToJson } from '../values/convert';

/**
 * The event fields every event subscription selects, in this order: the base
 * event, condition state for alarms, and the audit fields of writes, method
 * calls and sessions. A field an event type does not have comes back null.
 */
export const EVENT_FIELDS = [
  'EventId',
  'EventType',
  'SourceNode',
  'SourceName',
  'Time',
  'ReceiveTime',
  'Message',
  'Severity',
  'ConditionId',
  'ConditionName',
  'ActiveState.Id',
  'AckedState.Id',
  'ConfirmedState.Id',
  'SuppressedState.Id',
  'LimitState.CurrentState',
  'Retain',
  'ActionTimeStamp',
  'Status',
  'ServerId',
  'ClientAuditEntryId',
  'ClientUserId',
  'ClientApplicationUri',
  'AttributeId',
  'IndexRange',
  'OldValue',
  'NewValue',
  'MethodId',
  'InputArguments',
  'SessionId',
  'SecureChannelId',
  'ClientCertificateThumbprint',
  'Changes',
] as const;

/** An event as field name → JSON value (the standard fields, then any extra ones by their name). */
export type EventRecord = Record<string, JsonValue>;

function literal(value: unknown, asNodeId: boolean): LiteralOperand {
  if (asNodeId && typeof value === 'string') return new LiteralOperand({ value: new Variant({ dataType: DataType.NodeId, value: coerceNodeId(value) }) });
  if (typeof value === 'boolean') return new LiteralOperand({ value: new Variant({ dataType: DataType.Boolean, value }) });
  if (typeof value === 'number') return new LiteralOperand({ value: new Variant({ dataType: DataType.Double, value }) });
  return new LiteralOperand({ value: new Variant({ dataType: DataType.String, value: String(value) }) });
}

function operand(op: WhereOperand, operator: string): LiteralOperand | ElementOperand | SimpleAttributeOperand {
  switch (op.kind) {
    case 'element':
      return new ElementOperand({ index: op.index });
    case 'literal':
      return literal(op.value, operator === 'OfType' || operator === 'InView' || operator === 'RelatedTo');
    case 'attribute':
      return new SimpleAttributeOperand({
        typeDefinitionId: coerceNodeId(op.typeDefinitionId),
        browsePath: op.browsePath.map((p) => coerceQualifiedName(p)),
        attributeId: (AttributeIds as unknown as Record<string, number>)[op.attribute] ?? AttributeIds.Value,
      });
  }
}

/**
 * A browse name of a select clause: `Name` (namespace 0), `<index>:Name`, or
 * `<namespace uri>#Name` (resolved against the server's namespace array, so a
 * configuration does not depend on the server's namespace order).
 */
export function qualifiedName(segment: string, namespaces: readonly string[]): QualifiedNameOptions {
  const hash = segment.lastIndexOf('#');
  if (hash > 0) {
    const uri = segment.slice(0, hash);
    const index = namespaces.indexOf(uri);
    if (index < 0) throw new Error(`namespace ${uri} of event field ${segment} is not served by this server`);
    return { namespaceIndex: index, name: segment.slice(hash + 1) };
  }
  const m = /^(\d+):(.*)$/.exec(segment);
  return m ? { namespaceIndex: Number(m[1]), name: m[2]! } : { namespaceIndex: 0, name: segment };
}

/** Converts a configured where clause into an OPC UA ContentFilter; throws on an unknown operator name. */
export function toContentFilter(where: WhereClause): ContentFilter {
  return new ContentFilter({
    elements: where.elements.map((e) => {
      const op = (FilterOperator as unknown as Record<string, number>)[e.operator];
      if (op === undefined) throw new Error(`unknown FilterOperator "${e.operator}"`);
      return new ContentFilterElement({ filterOperator: op, filterOperands: e.operands.map((o) => operand(o, e.operator)) });
    }),
  });
}

/**
 * The EventFilter for an event source: the standard fields (`EVENT_FIELDS`),
 * the source's extra fields, and as where clause its `whereClause`, or an
 * `OfType` of its `typeDefinitionId`, or none (every event of the notifier).
 */
export function eventFilterFor(source: EventSource, resolve: (nodeId: string) => NodeId, namespaces: readonly string[] = []): { filter: EventFilter; fieldNames: string[] } {
  const extras = source.extraFields ?? [];
  const fieldNames = [...EVENT_FIELDS, ...extras.map((x) => x.name)];
  let where: ContentFilter | undefined;
  if (source.whereClause) {
    where = toContentFilter({
      elements: source.whereClause.elements.map((e) => ({
        operator: e.operator,
        operands: e.operands.map((o) => (o.kind === 'literal' && e.operator === 'OfType' && typeof o.value === 'string' ? { kind: 'literal' as const, value: resolve(o.value).toString() } : o)),
      })),
    });
  } else if (source.typeDefinitionId) {
    where = new ContentFilter({ elements: [new ContentFilterElement({ filterOperator: FilterOperator.OfType, filterOperands: [new LiteralOperand({ value: new Variant({ dataType: DataType.NodeId, value: resolve(source.typeDefinitionId) }) })] })] });
  }
  const paths: QualifiedNameOptions[][] = [...EVENT_FIELDS.map((f) => f.split('.').map((name) => ({ namespaceIndex: 0, name }))), ...extras.map((x) => x.browsePath.map((seg) => qualifiedName(seg, namespaces)))];
  const filter = constructEventFilter(paths, where);
  return { filter, fieldNames };
}

/** Event field values (as the subscription delivers them) as a record of JSON values by field name. */
export function eventRecord(fieldNames: readonly string[], variants: ReadonlyArray<{ value: unknown } | null | undefined>): EventRecord {
  const out: EventRecord = {};
  fieldNames.forEach((name, i) => {
    out[name] = anyToJson(variants[i]?.value ?? null);
  });
  return out;
}
