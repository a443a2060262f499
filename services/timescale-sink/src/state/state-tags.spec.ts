import { describe, expect, it } from 'vitest';
import { sinkSectionSchema } from '../config';
import { StateTagMatcher } from './state-tags';

const defaults = sinkSectionSchema.parse({}).state;

describe('StateTagMatcher with the defaults (simulator convention)', () => {
  const m = new StateTagMatcher(defaults);
  it('finds a state tag and names its DownReason sibling', () => {
    expect(m.classify('ns=3;s=Line1.Filler.State', undefined)).toEqual({ role: 'state', reasonKey: 'ns=3;s=Line1.Filler.DownReason' });
    expect(m.classify('ns=2;s=acme/hamburg/line1/m1/State', undefined)).toEqual({ role: 'state', reasonKey: 'ns=2;s=acme/hamburg/line1/m1/DownReason' });
  });
  it('finds a reason tag and the prefix its state tag shares', () => {
    expect(m.classify('ns=3;s=Line1.Filler.DownReason', undefined)).toEqual({ role: 'reason', prefix: 'ns=3;s=Line1.Filler.' });
    expect(m.ownsReason('ns=3;s=Line1.Filler.State', 'ns=3;s=Line1.Filler.')).toBe(true);
    expect(m.ownsReason('ns=3;s=Line1.Filler2.State', 'ns=3;s=Line1.Filler.')).toBe(false);
  });
  it('leaves other tags alone', () => {
    expect(m.classify('ns=3;s=Line1.Filler.StateOfCharge', undefined)).toEqual({ role: 'none' });
    expect(m.classify('ns=3;s=Line1.Filler.Speed', undefined)).toEqual({ role: 'none' });
  });
});

describe('StateTagMatcher on browse paths', () => {
  const m = new StateTagMatcher({ ...defaults, matchOn: 'browsePath', tagPattern: '^(.*/)MachineState$', reasonSuffix: 'StopCode' });
  it('matches the browse path, not the node id', () => {
    expect(m.classify('ns=3;i=6011', 'Plant/Line1/Filler/MachineState')).toEqual({ role: 'state', reasonKey: 'Plant/Line1/Filler/StopCode' });
    expect(m.classify('ns=3;s=Filler.MachineState', undefined)).toEqual({ role: 'none' });
  });
});
