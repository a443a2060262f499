import { describe, expect, it } from 'vitest';
import { featuresFor, licenseFrom } from './timescale-detection';

describe('licenseFrom', () => {
  it('is null without the extension, whatever the setting says', () => expect(licenseFrom(null, 'timescale')).toBeNull());
  it('reads timescale', () => expect(licenseFrom('2.19.3', 'timescale')).toBe('timescale'));
  it('reads apache', () => expect(licenseFrom('2.19.3', 'apache')).toBe('apache'));
  it('counts an unreadable setting as apache, the safe side', () => expect(licenseFrom('2.19.3', null)).toBe('apache'));
});

describe('featuresFor', () => {
  it('allows everything under the Timescale licence', () => {
    expect(featuresFor('timescale')).toEqual({ hypertables: true, continuousAggregates: true, compression: true, policies: true });
  });
  it('allows only hypertables under the Apache licence', () => {
    expect(featuresFor('apache')).toEqual({ hypertables: true, continuousAggregates: false, compression: false, policies: false });
  });
  it('allows nothing without the extension', () => {
    expect(featuresFor(null)).toEqual({ hypertables: false, continuousAggregates: false, compression: false, policies: false });
  });
});
