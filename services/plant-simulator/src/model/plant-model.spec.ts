import { describe, expect, it } from 'vitest';
import { PlantModel } from './plant-model';

const T0 = Date.UTC(2025, 5, 3, 10, 0, 0);
const H = 3_600_000;
const small = { sites: 1, areasPerSite: 1, linesPerArea: 1, machinesPerLine: 3, extraTagsPerMachine: 2 };
const M1 = 'Site01.Area01.Line01.Machine01';

describe('PlantModel determinism', () => {
  it('gives the same values for the same seed, whatever the order of questions', () => {
    const a = new PlantModel({ seed: 'same', shape: small });
    const b = new PlantModel({ seed: 'same', shape: small });
    const times = [T0, T0 + 1234, T0 + 7 * H + 999, T0 - 400 * 24 * H];
    const forward = a.tags.flatMap((t) => times.map((time) => a.valueAt(t.id, time)));
    const backward = [...b.tags].reverse().flatMap((t) => [...times].reverse().map((time) => b.valueAt(t.id, time))).reverse();
    expect(backward).toEqual(forward);
  });

  it('gives different plants for different seeds', () => {
    const a = new PlantModel({ seed: 'one', shape: small });
    const b = new PlantModel({ seed: 'two', shape: small });
    const temps = (m: PlantModel): unknown[] => m.samplesBetween(`${M1}.Temperature`, T0, T0 + 60_000).map((s) => s.value);
    expect(temps(a)).not.toEqual(temps(b));
  });

  it('names tags by ISA-95 path and accepts full NodeIds', () => {
    const m = new PlantModel({ seed: 's', shape: small });
    expect(m.tags).toHaveLength(3 * 14);
    expect(m.tag('ns=2;s=Site01.Area01.Line01.Machine03.Tag002').name).toBe('Tag002');
    expect(m.tag('nsu=urn:weir:plant-simulator:plant;s=Site01.Area01.Line01.Machine01.Mode').kind).toBe('mode');
    expect(() => m.tag('Site01.Area01.Line01.Machine09.State')).toThrow(/MODEL.UNKNOWN_TAG/);
  });
});

describe('samples and valueAt', () => {
  const m = new PlantModel({ seed: 'samples', shape: small });
  const from = T0;
  const to = T0 + 2 * H;

  it.each(['State', 'DownReason', 'TotalCount', 'GoodCount', 'Temperature', 'Pressure', 'Speed', 'EnergyMeter', 'Tag001', 'Tag002'])('%s: every sample is what valueAt says, and valueAt between samples is the previous sample', (name) => {
    const id = `${M1}.${name}`;
    const samples = m.samplesBetween(id, from, to);
    expect(samples.length).toBeGreaterThan(0);
    for (const s of samples) expect(m.valueAt(id, s.time)).toEqual(s);
    // Consecutive samples always differ: a sample is a change.
    for (let i = 1; i < samples.length; i++) expect(samples[i]!.value).not.toBe(samples[i - 1]!.value);
    // Any instant after the first sample sees the latest sample at or before it.
    const first = samples[0]!.time;
    let j = 0;
    for (let t = first; t <= to; t += 777) {
      while (j + 1 < samples.length && samples[j + 1]!.time <= t) j++;
      expect(m.valueAt(id, t)).toEqual(samples[j]);
    }
  });

  it('pages through a range with bounded scans, forward and reverse, giving the same samples', () => {
    const tag = m.tag(`${M1}.Temperature`);
    const all = m.samplesBetween(tag.id, from, to);
    const paged: unknown[] = [];
    let start = from;
    for (;;) {
      const scan = m.scanSamples(tag, start, to, { maxValues: 500, maxSteps: 700 });
      paged.push(...scan.samples);
      if (scan.resumeAt === undefined) break;
      start = scan.resumeAt;
    }
    expect(paged).toEqual(all);
    const reversed: unknown[] = [];
    let end = to;
    for (;;) {
      const scan = m.scanSamples(tag, from, end, { reverse: true, maxValues: 333, maxSteps: 10_000 });
      reversed.push(...scan.samples);
      if (scan.resumeAt === undefined) break;
      end = scan.resumeAt;
    }
    expect(reversed).toEqual([...all].reverse());
  });

  it('starts at the epoch: the first sample of every tag is at the epoch and nothing exists before', () => {
    const e = m.epochMs;
    for (const t of m.machines[0]!.tags) expect(m.samplesBetween(t.id, e - H, e)[0]).toEqual({ time: e, value: m.valueAt(t.id, e).value });
    expect(m.valueAt(`${M1}.TotalCount`, e).value).toBe(0);
    expect(() => m.valueAt(`${M1}.TotalCount`, e - 1)).toThrow(/MODEL.BEFORE_EPOCH/);
  });

  it('keeps process values in a plausible band', () => {
    const sp = m.valueAt(`${M1}.TemperatureSetpoint`, T0).value as number;
    const temps = m.samplesBetween(`${M1}.Temperature`, T0, T0 + 6 * H).map((s) => s.value as number);
    expect(Math.max(...temps)).toBeLessThan(sp + 25);
    expect(Math.min(...temps)).toBeGreaterThan(20);
  });
});

describe('counters', () => {
  const m = new PlantModel({ seed: 'counters', shape: small });

  it('are monotonic, GoodCount <= TotalCount, and do not move while the machine is not running', () => {
    const from = T0;
    const to = T0 + 12 * H;
    const total = m.samplesBetween(`${M1}.TotalCount`, from, to);
    const good = m.samplesBetween(`${M1}.GoodCount`, from, to);
    const energy = m.samplesBetween(`${M1}.EnergyMeter`, from, to);
    for (const series of [total, good, energy]) for (let i = 1; i < series.length; i++) expect(series[i]!.value as number).toBeGreaterThan(series[i - 1]!.value as number);
    for (const g of good) expect(g.value as number).toBeLessThanOrEqual(m.valueAt(`${M1}.TotalCount`, g.time).value as number);
    const stops = m.scheduleBetween(M1, from, to).filter((s) => s.state !== 'running' && s.to - s.from > 3000);
    expect(stops.length).toBeGreaterThan(0);
    for (const s of stops) {
      const first = Math.ceil(s.from / 1000) * 1000;
      const last = Math.floor((s.to - 1) / 1000) * 1000;
      expect(m.valueAt(`${M1}.TotalCount`, last).value).toBe(m.valueAt(`${M1}.TotalCount`, first).value);
      expect(m.valueAt(`${M1}.Speed`, last).value).toBe(0);
    }
  });

  it('closed form equals a brute-force sum over every second of the schedule', () => {
    const rate = m.machine(M1).params.rate;
    const from = T0 - 3 * 24 * H; // across day boundaries
    const to = from + 30 * H;
    let brute = 0;
    for (let t = from; t < to; t += 1000) if (m.machineStateAt(M1, t).state === 'running') brute += rate;
    expect(m.productionIntegral(M1, to) - m.productionIntegral(M1, from)).toBeCloseTo(brute, 6);
  });

  it('closed form from the epoch equals the running time of every day of the schedule, summed', () => {
    const days = 40;
    const e = m.epochMs;
    const running = m.scheduleBetween(M1, e, e + days * 24 * H).filter((s) => s.state === 'running');
    const brute = running.reduce((sum, s) => sum + (s.to - s.from) / 1000, 0) * m.machine(M1).params.rate;
    expect(m.productionIntegral(M1, e + days * 24 * H)).toBeCloseTo(brute, 4);
  });
});

describe('overrides', () => {
  it('a downtime forces the state, stops production and leaves earlier history untouched', () => {
    const plain = new PlantModel({ seed: 'ovr', shape: small });
    const m = new PlantModel({ seed: 'ovr', shape: small });
    const start = T0 + 10 * 60_000;
    m.addStateOverride(M1, start, start + 5 * 60_000, 'down', 303);
    expect(m.valueAt(`${M1}.State`, start + 1000)).toEqual({ time: start, value: 'down' });
    expect(m.valueAt(`${M1}.DownReason`, start + 60_000)).toEqual({ time: start, value: 303 });
    expect(m.valueAt(`${M1}.Speed`, start + 60_000).value).toBe(0);
    expect(m.valueAt(`${M1}.TotalCount`, start + 5 * 60_000 - 1000).value).toBe(m.valueAt(`${M1}.TotalCount`, start).value);
    for (const name of ['State', 'TotalCount', 'Temperature', 'EnergyMeter']) expect(m.samplesBetween(`${M1}.${name}`, T0, start - 1)).toEqual(plain.samplesBetween(`${M1}.${name}`, T0, start - 1));
    // Brute force with the override: production only while running.
    const rate = m.machine(M1).params.rate;
    let brute = 0;
    for (let t = T0; t < T0 + H; t += 1000) if (m.machineStateAt(M1, t).state === 'running') brute += rate;
    expect(m.productionIntegral(M1, T0 + H) - m.productionIntegral(M1, T0)).toBeCloseTo(brute, 6);
  });

  it('a speed setpoint write changes the setpoint at its time, speed and production from the next tick', () => {
    const m = new PlantModel({ seed: 'write', shape: small });
    const base = m.valueAt(`${M1}.SpeedSetpoint`, T0).value as number;
    const at = T0 + 30_000 + 250; // between ticks
    m.addValueOverride(`${M1}.SpeedSetpoint`, at, base * 1.5);
    expect(m.valueAt(`${M1}.SpeedSetpoint`, at)).toEqual({ time: at, value: base * 1.5 });
    expect(m.valueAt(`${M1}.SpeedSetpoint`, at - 1)).toEqual({ time: m.epochMs, value: base });
    expect(m.samplesBetween(`${M1}.SpeedSetpoint`, T0, T0 + H)).toEqual([{ time: at, value: base * 1.5 }]);
    // From the next tick, production runs 1.5 times faster while running.
    const rate = m.machine(M1).params.rate;
    const next = T0 + 31_000;
    let brute = 0;
    for (let t = next; t < next + 2 * H; t += 1000) if (m.machineStateAt(M1, t).state === 'running') brute += rate * 1.5;
    expect(m.productionIntegral(M1, next + 2 * H) - m.productionIntegral(M1, next)).toBeCloseTo(brute, 6);
  });

  it('Mode Program idles the machine with reason 106', () => {
    const m = new PlantModel({ seed: 'mode', shape: small });
    m.addValueOverride(`${M1}.Mode`, T0, 'Program');
    expect(m.machineStateAt(M1, T0 + 5000)).toEqual({ state: 'idle', reason: 106 });
    expect(m.valueAt(`${M1}.Mode`, T0 + 5000)).toEqual({ time: T0, value: 'Program' });
    expect(() => m.addValueOverride(`${M1}.Mode`, T0 + 1, 'Hack')).toThrow(/MODEL.INVALID_MODE/);
  });

  it('an excursion lifts the temperature above the alarm limit at its peak', () => {
    const m = new PlantModel({ seed: 'exc', shape: small });
    const params = m.machine(M1).params;
    const at = T0 + 60_000;
    m.addStateOverride(M1, at - 20 * 60_000, at + 10 * 60_000, 'running', 0);
    m.addExcursion(M1, at, at + 60_000, 30);
    expect(m.valueAt(`${M1}.Temperature`, at + 30_000).value as number).toBeGreaterThan(params.temperatureHighHigh);
    expect(m.valueAt(`${M1}.Temperature`, at + 120_000).value as number).toBeLessThan(params.temperatureHigh);
  });
});

describe('configuration checks', () => {
  it('refuses a tick that does not divide a day and an epoch that is not midnight', () => {
    expect(() => new PlantModel({ tickMs: 7000 })).toThrow(/MODEL.INVALID_TICK/);
    expect(() => new PlantModel({ epoch: '2020-01-01T01:00:00Z' })).toThrow(/MODEL.INVALID_EPOCH/);
    expect(() => new PlantModel({ shape: { sites: 0 } })).toThrow(/MODEL.INVALID_SHAPE/);
  });
});
