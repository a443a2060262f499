import { describe, expect, it } from 'vitest';
import { isUnder, isUsableForKpi, isValidChildLevel, parseAssetPath, qualityClass, StatusCodes, statusName } from './index';

describe('qualityClass', () => {
  it.each([
    [0, 'good'],
    [StatusCodes.GoodLocalOverride, 'good'],
    [StatusCodes.UncertainLastUsableValue, 'uncertain'],
    [StatusCodes.BadNoCommunication, 'bad'],
    [0xc0000000, 'bad'],
  ] as const)('0x%s is %s', (code, expected) => {
    expect(qualityClass(code)).toBe(expected);
  });
  it('lets only good values into KPIs', () => {
    expect(isUsableForKpi(StatusCodes.Good)).toBe(true);
    expect(isUsableForKpi(StatusCodes.UncertainSubstituteValue)).toBe(false);
    expect(isUsableForKpi(StatusCodes.BadSensorFailure)).toBe(false);
  });
  it('names known codes and prints others in hex', () => {
    expect(statusName(2150694912)).toBe('BadNoCommunication');
    expect(statusName(0x80010000)).toBe('0x80010000');
  });
});

describe('ISA-95 paths', () => {
  it('splits a path and refuses empty segments', () => {
    expect(parseAssetPath('acme/hamburg/line1')).toEqual(['acme', 'hamburg', 'line1']);
    expect(() => parseAssetPath('acme//line1')).toThrow(/DOMAIN.BAD_ASSET_PATH/);
  });
  it('compares by whole segments', () => {
    expect(isUnder('acme/hamburg/line1/filler1', 'acme/hamburg/line1')).toBe(true);
    expect(isUnder('acme/hamburg/line10', 'acme/hamburg/line1')).toBe(false);
  });
  it('orders levels', () => {
    expect(isValidChildLevel('line', 'machine')).toBe(true);
    expect(isValidChildLevel('machine', 'site')).toBe(false);
  });
});
