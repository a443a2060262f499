import { describe, expect, it } from 'vitest';
import { parseScenario } from './scenario';

describe('scenario files', () => {
  it('parses timed steps with durations and fills defaults', () => {
    const steps = parseScenario({
      steps: [
        { at: '30s', action: 'downtime', machine: 'Site01.Area01.Line01.Machine01', duration: '5m', reason: 303 },
        { at: '1m', action: 'setpoint', machine: 'Site01.Area01.Line01.Machine02', tag: 'SpeedSetpoint', value: 90, user: 'operator' },
        { at: '2m', action: 'mode', machine: 'Site01.Area01.Line01.Machine02', mode: 'Program', user: 'engineer' },
        { at: '3m', action: 'unknownClientWrite', machine: 'Site01.Area01.Line01.Machine03', tag: 'TemperatureSetpoint', value: 250 },
        { at: 240000, action: 'temperatureExcursion', machine: 'Site01.Area01.Line01.Machine01', duration: '90s' },
      ],
    });
    expect(steps.map((s) => [s.action, s.at])).toEqual([['downtime', 30_000], ['setpoint', 60_000], ['mode', 120_000], ['unknownClientWrite', 180_000], ['temperatureExcursion', 240_000]]);
    expect(steps[0]).toMatchObject({ duration: 300_000, reason: 303 });
    expect(steps[3]).toMatchObject({ applicationUri: 'urn:unknown:rogue-engineering-station' });
    expect(steps[4]).toMatchObject({ delta: 25, duration: 90_000 });
  });

  it('lists every invalid step', () => {
    expect(() => parseScenario([{ at: 'later', action: 'downtime', machine: 'M', duration: '1m' }, { at: 0, action: 'explode', machine: 'M' }])).toThrow(/SCENARIO.INVALID: 0.at: .*; 1.action/);
  });
});
