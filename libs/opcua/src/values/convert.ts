import type { JsonValue } from '@weir/contracts';
import { DataType, VariantArrayType, type DataValue, type Variant } from 'node-opcua';

/** A value as it travels in a sample: JSON, plus the OPC UA built-in type name it came as. */
export interface ConvertedValue {
  value: JsonValue;
  /** `Double`, `Int32`, `String`, `ExtensionObject`, ... (`Null` for no value). */
  dataType: string;
}

// Deeper than any structure we decode is more likely a cycle; cut there instead of overflowing the stack.
const MAX_DEPTH = 32;

interface StructField {
  name: string;
  originalName?: string;
  switchBit?: number;
  switchValue?: number;
}
interface StructLike {
  schema: { name: string; fields: StructField[] };
  [field: string]: unknown;
}
const isStruct = (v: unknown): v is StructLike => v !== null && typeof v === 'object' && Array.isArray((v as { schema?: { fields?: unknown } }).schema?.fields);

/** A 64-bit integer as node-opcua holds it (`[high, low]`), as a number when exact, else as a decimal string (as OPC UA JSON does). */
export function int64ToJson(v: unknown, signed: boolean): JsonValue {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (!Array.isArray(v) || v.length !== 2) return null;
  const [high, low] = v as [number, number];
  let big = (BigInt(high >>> 0) << 32n) | BigInt(low >>> 0);
  if (signed && high & 0x80000000) big -= 1n << 64n;
  const n = Number(big);
  return Number.isSafeInteger(n) ? n : big.toString();
}

function floatToJson(v: number): JsonValue {
  // JSON has no NaN or Infinity; OPC UA's JSON encoding (Part 6, 5.4.2.3) writes them as these strings.
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  return v;
}

function structToJson(obj: StructLike, depth: number): JsonValue {
  if (depth > MAX_DEPTH) return null;
  const out: { [key: string]: JsonValue } = {};
  for (const field of obj.schema.fields) {
    const raw = obj[field.name];
    // Optional fields (switchBit) that are absent, and the unselected arms of a union, are left out.
    if (raw === undefined) continue;
    out[field.originalName ?? field.name] = anyToJson(raw, depth + 1);
  }
  return out;
}

/** Any value node-opcua decodes (scalars, buffers, dates, node ids, structures, nested variants) as JSON. */
export function anyToJson(v: unknown, depth = 0): JsonValue {
  if (v === null || v === undefined) return null;
  if (depth > MAX_DEPTH) return null;
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return v;
    case 'number':
      return floatToJson(v);
    case 'bigint':
      return int64ToJson(v, true);
    case 'object':
      break;
    default:
      return String(v);
  }
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.toISOString();
  if (Buffer.isBuffer(v)) return v.toString('base64');
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number>, (x) => floatToJson(Number(x)));
  if (Array.isArray(v)) return v.map((x) => anyToJson(x, depth + 1));
  const o = v as Record<string, unknown> & { constructor?: { name?: string } };
  const ctor = o.constructor?.name;
  if (ctor === 'Variant') return variantToJson(v as Variant, depth + 1).value;
  if (ctor === 'DataValue') {
    const dv = v as DataValue;
    return { value: variantToJson(dv.value, depth + 1).value, status: dv.statusCode.value >>> 0, sourceTime: anyToJson(dv.sourceTimestamp), serverTime: anyToJson(dv.serverTimestamp) };
  }
  if (ctor === 'NodeId' || ctor === 'ExpandedNodeId') return String(v);
  if (ctor === 'StatusCode' || ctor === 'ConstantStatusCode' || ctor === 'ModifiableStatusCode') return ((o as { value: number }).value >>> 0);
  if (ctor === 'QualifiedName') {
    const q = o as { namespaceIndex: number; name: string | null };
    return q.namespaceIndex ? `${q.namespaceIndex}:${q.name ?? ''}` : (q.name ?? '');
  }
  if (ctor === 'LocalizedText') {
    const t = o as { locale: string | null; text: string | null };
    return t.locale ? { locale: t.locale, text: t.text ?? '' } : { text: t.text ?? '' };
  }
  if (ctor === 'OpaqueStructure') {
    // A structure whose type the server did not let us decode: keep it, encoded, rather than drop it.
    const op = o as unknown as { nodeId: unknown; buffer: Buffer };
    return { encoding: 'binary', typeId: String(op.nodeId), body: op.buffer.toString('base64') };
  }
  if (isStruct(v)) return structToJson(v, depth);
  if (ctor === 'Guid') return String(v);
  // Plain objects (already-decoded JSON, enums as objects): copy their own JSON-able fields.
  const out: { [key: string]: JsonValue } = {};
  for (const [k, x] of Object.entries(o)) if (typeof x !== 'function') out[k] = anyToJson(x, depth + 1);
  return out;
}

function scalarToJson(dataType: DataType, v: unknown, depth: number): JsonValue {
  switch (dataType) {
    case DataType.Null:
      return null;
    case DataType.Int64:
      return int64ToJson(v, true);
    case DataType.UInt64:
      return int64ToJson(v, false);
    case DataType.Float:
    case DataType.Double:
      return typeof v === 'number' ? floatToJson(v) : anyToJson(v, depth);
    case DataType.Guid:
      return v === null || v === undefined ? null : String(v);
    default:
      return anyToJson(v, depth);
  }
}

function reshape(flat: JsonValue[], dims: readonly number[]): JsonValue {
  if (dims.length <= 1) return flat;
  const [first, ...rest] = dims;
  const size = rest.reduce((a, b) => a * b, 1);
  const out: JsonValue[] = [];
  for (let i = 0; i < first!; i++) out.push(reshape(flat.slice(i * size, (i + 1) * size), rest));
  return out;
}

/**
 * A Variant as JSON with its built-in type name: scalars as JSON scalars
 * (64-bit integers as numbers when exact, else decimal strings; NaN and
 * infinities as strings), arrays as arrays, matrices as nested arrays,
 * structures (ExtensionObjects) as objects keyed by their field names as the
 * server defines them, byte strings as base64, dates as ISO 8601.
 */
export function variantToJson(variant: Variant | null | undefined, depth = 0): ConvertedValue {
  if (!variant) return { value: null, dataType: 'Null' };
  const dataType = variant.dataType;
  const name = DataType[dataType] ?? `DataType${String(dataType)}`;
  if (variant.arrayType === VariantArrayType.Scalar) return { value: scalarToJson(dataType, variant.value, depth), dataType: name };
  const items = variant.value === null || variant.value === undefined ? [] : Array.from(variant.value as ArrayLike<unknown>, (x) => scalarToJson(dataType, x, depth + 1));
  if (variant.arrayType === VariantArrayType.Matrix && variant.dimensions && variant.dimensions.length > 1) {
    return { value: reshape(items, variant.dimensions), dataType: name };
  }
  return { value: items, dataType: name };
}
