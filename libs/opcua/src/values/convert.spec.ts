import { isJsonValue } from '@weir/contracts';
import { BuildInfo, DataType, LocalizedText, NodeId, QualifiedName, ServerStatusDataType, Variant, VariantArrayType } from 'node-opcua';
import { describe, expect, it } from 'vitest';
import { int64ToJson, variantToJson } from './convert';

const v = (dataType: DataType, value: unknown, arrayType = VariantArrayType.Scalar, dimensions?: number[]) => new Variant({ dataType, value, arrayType, ...(dimensions ? { dimensions } : {}) });

describe('variantToJson', () => {
  it.each([
    [v(DataType.Double, 21.5), 21.5, 'Double'],
    [v(DataType.Float, NaN), 'NaN', 'Float'],
    [v(DataType.Double, -Infinity), '-Infinity', 'Double'],
    [v(DataType.Int32, -7), -7, 'Int32'],
    [v(DataType.UInt32, 4_000_000_000), 4_000_000_000, 'UInt32'],
    [v(DataType.Boolean, true), true, 'Boolean'],
    [v(DataType.String, 'running'), 'running', 'String'],
    [v(DataType.DateTime, new Date('2026-11-25T08:00:00.123Z')), '2026-11-25T08:00:00.123Z', 'DateTime'],
    [v(DataType.ByteString, Buffer.from([1, 2, 255])), 'AQL/', 'ByteString'],
    [v(DataType.NodeId, new NodeId(NodeId.NodeIdType.STRING, 'A.B', 3)), 'ns=3;s=A.B', 'NodeId'],
    [v(DataType.LocalizedText, new LocalizedText({ locale: 'de', text: 'Störung' })), { locale: 'de', text: 'Störung' }, 'LocalizedText'],
    [v(DataType.QualifiedName, new QualifiedName({ namespaceIndex: 2, name: 'Speed' })), '2:Speed', 'QualifiedName'],
    [v(DataType.Int64, [0, 42], VariantArrayType.Scalar), 42, 'Int64'],
    [new Variant({ dataType: DataType.Null }), null, 'Null'],
  ])('%s', (variant, value, dataType) => {
    const out = variantToJson(variant);
    expect(out).toEqual({ value, dataType });
    expect(isJsonValue(out.value)).toBe(true);
  });

  it('keeps arrays and reshapes matrices by their dimensions', () => {
    expect(variantToJson(v(DataType.Double, new Float64Array([1, 2.5, 3]), VariantArrayType.Array))).toEqual({ value: [1, 2.5, 3], dataType: 'Double' });
    expect(variantToJson(v(DataType.String, ['a', 'b'], VariantArrayType.Array))).toEqual({ value: ['a', 'b'], dataType: 'String' });
    expect(variantToJson(v(DataType.Int32, new Int32Array([1, 2, 3, 4, 5, 6]), VariantArrayType.Matrix, [2, 3]))).toEqual({ value: [[1, 2, 3], [4, 5, 6]], dataType: 'Int32' });
  });

  it('decodes structures to objects keyed by the field names the type defines, nested ones too', () => {
    const status = new ServerStatusDataType({ startTime: new Date('2026-01-01T00:00:00Z'), currentTime: new Date('2026-01-01T01:00:00Z'), state: 0, buildInfo: new BuildInfo({ productName: 'Weir plant simulator', softwareVersion: '0.1.0' }), secondsTillShutdown: 0 });
    const out = variantToJson(v(DataType.ExtensionObject, status));
    expect(out.dataType).toBe('ExtensionObject');
    expect(out.value).toMatchObject({ StartTime: '2026-01-01T00:00:00.000Z', CurrentTime: '2026-01-01T01:00:00.000Z', State: 0, SecondsTillShutdown: 0, BuildInfo: { ProductName: 'Weir plant simulator', SoftwareVersion: '0.1.0' } });
    expect(isJsonValue(out.value)).toBe(true);
  });
});

describe('int64ToJson', () => {
  it('is a number while exact, a decimal string beyond 2^53, and signed when asked', () => {
    expect(int64ToJson([0, 5], true)).toBe(5);
    expect(int64ToJson([0x00200000, 1], false)).toBe('9007199254740993');
    expect(int64ToJson([0xffffffff, 0xfffffffe], true)).toBe(-2);
    expect(int64ToJson([0xffffffff, 0xffffffff], false)).toBe('18446744073709551615');
  });
});
