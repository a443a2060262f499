import { gaussian, hashString, roundTo, unit } from './hash';
import { DEFAULT_SHAPE, extraTagName, machinePlaces, STANDARD_TAGS, validateShape, type MachinePlace, type PlantShape, type StandardTag, type TagDataType, type TagKind } from './layout';
import { MACHINE_MODES, MACHINE_STATES, REASON_MAINTENANCE_MODE, REASON_NONE, REASON_PROGRAMMING, type MachineMode, type MachineState } from './reasons';
import { buildDaySchedule, DAY_MS, dayTotals, IDLE, RUNNING, scheduleProfile, segmentIndex, totalsBeforeDay, type DaySchedule, type ScheduleProfile } from './schedule';

/** A value as served: numbers for counters and process values, strings for State and Mode. */
export type SampleValue = number | string;

/** One recorded value: its source timestamp (ms since 1970, UTC) and value. */
export interface Sample {
  time: number;
  value: SampleValue;
}

/** A point in time: ms since 1970, a Date or an ISO 8601 string. */
export type TimeInput = number | Date | string;

/** How the deterministic model is set up; every value is a pure function of these, the time and the override log. */
export interface PlantModelOptions {
  /** Seed of everything random-looking. Same seed, same plant, same values. */
  seed?: string | number;
  /** The tick grid in ms (default 1000): values change only at multiples of it. Must divide a day. */
  tickMs?: number;
  /** Start of the model (default 2020-01-01T00:00:00Z; must be a UTC midnight): counters count from here, nothing exists before. */
  epoch?: TimeInput;
  shape?: Partial<PlantShape>;
}

/** Seeded constants of one machine. */
export interface MachineParams {
  /** Ideal cycle time per part at nominal speed, s. */
  idealCycleTime: number;
  /** Actual parts per running second at nominal speed. */
  rate: number;
  /** Share of parts that are good. */
  yieldRate: number;
  speedNominal: number;
  temperatureSetpoint: number;
  pressureRunning: number;
  /** Electrical power by state, kW. */
  powerRunning: number;
  powerIdle: number;
  powerDown: number;
  availability: number;
  /** Limits of the temperature alarm. */
  temperatureHigh: number;
  temperatureHighHigh: number;
}

/** One machine of the plant. */
export interface MachineInfo extends MachinePlace {
  key: number;
  params: MachineParams;
  profile: ScheduleProfile;
  tags: TagInfo[];
}

/** One tag (an OPC UA variable) of a machine. */
export interface TagInfo extends StandardTag {
  /** `Site01.Area01.Line01.Machine01.Temperature`, the string NodeId identifier. */
  id: string;
  machine: MachineInfo;
  /** Period of the value grid in ms; 0 for tags that change only when written (setpoints, Mode) or never (IdealCycleTime). */
  periodMs: number;
  /** Value before any write, for tags with period 0. */
  baseValue?: SampleValue;
  key: number;
  /** Drift shape: three periods (s) and phases. */
  drift: Float64Array;
  /** For extra tags: level, drift amplitude, noise sigma. */
  extra?: { level: number; amplitude: number; sigma: number };
}

/** A machine forced into a state (downtime scenario); later overrides win over earlier ones. */
export interface StateOverride {
  kind: 'state';
  seq: number;
  machine: string;
  from: number;
  to: number;
  state: MachineState;
  reason: number;
}

/** A temperature excursion added on top of the model (scenario). */
export interface ExcursionOverride {
  kind: 'excursion';
  seq: number;
  machine: string;
  from: number;
  to: number;
  /** Peak rise in °C, reached half-way. */
  delta: number;
}

/** A value written to a setpoint or Mode. */
export interface ValueOverride {
  kind: 'value';
  seq: number;
  tag: string;
  /** When the write took effect: the sample time of the written variable. */
  time: number;
  /** First tick at or after `time`: when dependent values (speed, counters, state) follow it. */
  gridTime: number;
  value: SampleValue;
}

/** An entry of the in-memory override log. */
export type Override = StateOverride | ExcursionOverride | ValueOverride;

/** Result of one bounded scan of a tag's samples. */
export interface SampleScan {
  samples: Sample[];
  /** Where to resume (forward: next start; reverse: next end) when the scan stopped early; absent when the range is exhausted. */
  resumeAt?: number;
}

const DEFAULT_EPOCH = Date.UTC(2020, 0, 1);
const HOUR_MS = 3_600_000;
const AMBIENT_C = 25;
const TEMP_TAU_S = 300;
const TEMP_WINDOW_MS = 8 * TEMP_TAU_S * 1000;
const PRESSURE_TAU_S = 4;
const PRESSURE_WINDOW_MS = 10 * PRESSURE_TAU_S * 1000;
const EXCURSION_SALT = 0x455843;

interface MachineOverrides {
  states: StateOverride[];
  excursions: ExcursionOverride[];
  /** Writes per tag kind, sorted by time. */
  values: Map<TagKind, ValueOverride[]>;
  /** Times where an override changes the state, speed or temperature target, sorted. */
  boundaries: number[];
  /** Earliest time an override changes production or energy (state windows, Mode, SpeedSetpoint). */
  firstProductionChange: number;
  /** Correction of the counter integrals at hour starts, memoised. */
  corrections: Map<number, { count: number; energy: number }>;
}

interface SegmentAttrs {
  state: number;
  reason: number;
  baseState: number;
  speedSetpoint: number;
  temperatureSetpoint: number;
}

function toMs(time: TimeInput): number {
  const ms = typeof time === 'number' ? time : typeof time === 'string' ? Date.parse(time) : time.getTime();
  if (!Number.isFinite(ms)) throw new Error(`MODEL.INVALID_TIME: ${String(time)}`);
  return ms;
}

const floorTo = (t: number, p: number): number => t - (((t % p) + p) % p);
const ceilTo = (t: number, p: number): number => {
  const f = floorTo(t, p);
  return f === t ? t : f + p;
};

/** Strips `ns=2;s=` / `nsu=...;s=` so a full NodeId or the bare identifier names a tag. */
export function tagIdOf(ref: string): string {
  return ref.replace(/^(?:ns=\d+|nsu=[^;]+);s=/, '');
}

/**
 * The deterministic plant: every variable's value is a pure function of the
 * seed, the tag and the time, plus the small log of writes and scenario
 * overrides made during one run. Values exist on a tick grid from the epoch on;
 * a sample is recorded at a grid time when the value differs from the previous
 * grid time (and for written tags at each write that changes the value).
 */
export class PlantModel {
  readonly seed: string;
  readonly tickMs: number;
  readonly epochMs: number;
  readonly shape: PlantShape;
  readonly machines: readonly MachineInfo[];
  readonly tags: readonly TagInfo[];
  private readonly tagById = new Map<string, TagInfo>();
  private readonly machineById = new Map<string, MachineInfo>();
  private readonly dayCache: Array<Map<number, DaySchedule>>;
  private readonly overridesByMachine = new Map<number, MachineOverrides>();
  private readonly log: Override[] = [];
  private seq = 0;

  constructor(options: PlantModelOptions = {}) {
    this.seed = String(options.seed ?? 'weir');
    this.tickMs = options.tickMs ?? 1000;
    this.epochMs = toMs(options.epoch ?? DEFAULT_EPOCH);
    this.shape = { ...DEFAULT_SHAPE, ...options.shape };
    validateShape(this.shape);
    if (!Number.isInteger(this.tickMs) || this.tickMs < 10 || DAY_MS % (this.tickMs * 10) !== 0) {
      throw new Error(`MODEL.INVALID_TICK: tickMs must be an integer >= 10 whose tenfold divides a day (86400000 ms), got ${this.tickMs}`);
    }
    if (this.epochMs % DAY_MS !== 0) throw new Error(`MODEL.INVALID_EPOCH: the epoch must be a UTC midnight, got ${new Date(this.epochMs).toISOString()}`);

    const seedKey = hashString(this.seed);
    const machines: MachineInfo[] = [];
    const tags: TagInfo[] = [];
    for (const place of machinePlaces(this.shape)) {
      const key = hashString(`${this.seed}|machine|${place.id}`);
      const u = (i: number): number => unit(key, 0x9a7a, i);
      const idealCycleTime = roundTo(1 + 5 * u(1), 1);
      const temperatureSetpoint = Math.round(60 + 140 * u(5));
      const powerRunning = roundTo(15 + 60 * u(7), 1);
      const availability = 0.62 + 0.24 * u(8);
      const params: MachineParams = {
        idealCycleTime,
        rate: (0.85 + 0.13 * u(2)) / idealCycleTime,
        yieldRate: 0.95 + 0.045 * u(3),
        speedNominal: Math.round(40 + 80 * u(4)),
        temperatureSetpoint,
        pressureRunning: roundTo(3 + 5 * u(6), 1),
        powerRunning,
        powerIdle: roundTo(0.35 * powerRunning, 2),
        powerDown: roundTo(0.08 * powerRunning, 2),
        availability,
        temperatureHigh: temperatureSetpoint + 10,
        temperatureHighHigh: temperatureSetpoint + 18,
      };
      const machine: MachineInfo = { ...place, key, params, profile: scheduleProfile(availability), tags: [] };
      const addTag = (name: string, kind: TagKind, dataType: TagDataType, writable: boolean, description: string, unitSymbol: string | undefined, periodMs: number, baseValue?: SampleValue): TagInfo => {
        const id = `${place.id}.${name}`;
        const tkey = hashString(`${this.seed}|tag|${id}`);
        const tu = (i: number): number => unit(tkey, 0xd71f, i);
        const drift = Float64Array.from([600 + 1200 * tu(1), 2 * Math.PI * tu(2), 3600 + 10800 * tu(3), 2 * Math.PI * tu(4), 28800 + 79200 * tu(5), 2 * Math.PI * tu(6)]);
        const tag: TagInfo = { id, name, kind, dataType, writable, description, machine, periodMs, key: tkey ^ seedKey, drift, ...(unitSymbol ? { unit: unitSymbol } : {}), ...(baseValue !== undefined ? { baseValue } : {}) };
        machine.tags.push(tag);
        tags.push(tag);
        this.tagById.set(id, tag);
        return tag;
      };
      for (const st of STANDARD_TAGS) {
        const base: Partial<Record<TagKind, SampleValue>> = { idealCycleTime: params.idealCycleTime, speedSetpoint: params.speedNominal, temperatureSetpoint: params.temperatureSetpoint, mode: 'Run' };
        const eventTag = st.kind in base;
        addTag(st.name, st.kind, st.dataType, st.writable, st.description, st.unit, eventTag ? 0 : this.tickMs, base[st.kind]);
      }
      for (let i = 0; i < this.shape.extraTagsPerMachine; i++) {
        const name = extraTagName(i, this.shape.extraTagsPerMachine);
        const ekey = hashString(`${this.seed}|extra|${place.id}.${name}`);
        const multiple = [1, 2, 5, 10][Math.floor(unit(ekey, 1) * 4)]!;
        const tag = addTag(name, 'extra', 'Double', false, 'generic process value', undefined, multiple * this.tickMs);
        const level = roundTo(1000 * unit(ekey, 2), 1);
        const amplitude = 1 + 0.05 * level;
        tag.extra = { level, amplitude, sigma: 0.05 * amplitude + 0.01 };
      }
      machines.push(machine);
      this.machineById.set(place.id, machine);
    }
    this.machines = machines;
    this.tags = tags;
    this.dayCache = machines.map(() => new Map());
  }

  /** The tag a NodeId (`ns=2;s=...`, `nsu=...;s=...`) or bare identifier names; throws `MODEL.UNKNOWN_TAG`. */
  tag(ref: string): TagInfo {
    const tag = this.tagById.get(tagIdOf(ref));
    if (!tag) throw new Error(`MODEL.UNKNOWN_TAG: ${ref}`);
    return tag;
  }

  /** True when the reference names a tag of this plant. */
  hasTag(ref: string): boolean {
    return this.tagById.has(tagIdOf(ref));
  }

  /** The machine with a dotted id (`Site01.Area01.Line01.Machine01`); throws `MODEL.UNKNOWN_MACHINE`. */
  machine(id: string): MachineInfo {
    const m = this.machineById.get(tagIdOf(id));
    if (!m) throw new Error(`MODEL.UNKNOWN_MACHINE: ${id}`);
    return m;
  }

  /** The first tick at or after a time. */
  nextTick(time: TimeInput): number {
    return ceilTo(toMs(time), this.tickMs);
  }

  /** The last tick at or before a time. */
  tickAtOrBefore(time: TimeInput): number {
    return floorTo(toMs(time), this.tickMs);
  }

  // ---------------------------------------------------------------- public queries

  /**
   * The sample in effect at `time`: the value the variable had then and the
   * source timestamp of the sample that set it (at or before `time`).
   */
  valueAt(ref: string, time: TimeInput): Sample {
    const tag = this.tag(ref);
    const t = toMs(time);
    if (t < this.epochMs) throw new Error(`MODEL.BEFORE_EPOCH: ${new Date(t).toISOString()} is before the model epoch ${new Date(this.epochMs).toISOString()}`);
    if (tag.periodMs === 0) {
      const changes = this.changesOf(tag);
      let found: Sample = { time: this.epochMs, value: tag.baseValue! };
      for (const c of changes) {
        if (c.time > t) break;
        found = c;
      }
      return { ...found };
    }
    const g = floorTo(t, tag.periodMs);
    const value = this.rawValue(tag, g);
    return { time: this.lastChange(tag, g, value), value };
  }

  /** Every sample with from <= time <= to, oldest first (the values a historian would hold). */
  samplesBetween(ref: string, from: TimeInput, to: TimeInput): Sample[] {
    const tag = this.tag(ref);
    const out: Sample[] = [];
    let start = toMs(from);
    const end = toMs(to);
    for (;;) {
      const scan = this.scanSamples(tag, start, end, { maxValues: 100_000, maxSteps: Number.MAX_SAFE_INTEGER });
      for (const s of scan.samples) out.push(s);
      if (scan.resumeAt === undefined) return out;
      start = scan.resumeAt;
    }
  }

  /**
   * One bounded page of samples in [from, to] (or [to, from] walking back when
   * `reverse`): stops after `maxValues` samples or `maxSteps` grid evaluations
   * and says where to resume. Memory and time per call are bounded, whatever the range.
   */
  scanSamples(tag: TagInfo, from: number, to: number, opts: { reverse?: boolean; maxValues: number; maxSteps: number }): SampleScan {
    const samples: Sample[] = [];
    const lo = Math.max(from, this.epochMs);
    if (to < lo) return { samples };
    if (tag.periodMs === 0) {
      const changes = [{ time: this.epochMs, value: tag.baseValue! }, ...this.changesOf(tag)].filter((c) => c.time >= lo && c.time <= to);
      if (opts.reverse) changes.reverse();
      const page = changes.slice(0, opts.maxValues);
      const next = changes[opts.maxValues];
      return { samples: page.map((c) => ({ ...c })), ...(next ? { resumeAt: next.time } : {}) };
    }
    const p = tag.periodMs;
    let steps = 0;
    if (!opts.reverse) {
      let g = ceilTo(lo, p);
      let prev = g - p >= this.epochMs ? this.rawValue(tag, g - p) : undefined;
      while (g <= to) {
        if (steps >= opts.maxSteps) return { samples, resumeAt: g };
        const v = this.rawValue(tag, g);
        steps++;
        if (prev === undefined || v !== prev) {
          samples.push({ time: g, value: v });
          if (samples.length >= opts.maxValues) return g + p <= to ? { samples, resumeAt: g + p } : { samples };
        }
        prev = v;
        g += p;
      }
      return { samples };
    }
    let g = floorTo(to, p);
    let cur = this.rawValue(tag, g);
    while (g >= lo) {
      if (steps >= opts.maxSteps) return { samples, resumeAt: g };
      const prev = g - p >= this.epochMs ? this.rawValue(tag, g - p) : undefined;
      steps++;
      if (prev === undefined || prev !== cur) {
        samples.push({ time: g, value: cur });
        if (samples.length >= opts.maxValues) return g - p >= lo ? { samples, resumeAt: g - p } : { samples };
      }
      if (prev === undefined) break;
      cur = prev;
      g -= p;
    }
    return { samples };
  }

  /** The machine's effective state and reason at an instant (overrides included). */
  machineStateAt(machineId: string, time: TimeInput): { state: MachineState; reason: number } {
    const m = this.machine(machineId);
    const s = this.stateAt(m, toMs(time));
    return { state: MACHINE_STATES[s.state]!, reason: s.reason };
  }

  /** The machine's base schedule (no overrides) as intervals overlapping [from, to). */
  scheduleBetween(machineId: string, from: TimeInput, to: TimeInput): Array<{ from: number; to: number; state: MachineState; reason: number }> {
    const m = this.machine(machineId);
    const a = toMs(from);
    const b = toMs(to);
    const out: Array<{ from: number; to: number; state: MachineState; reason: number }> = [];
    for (let day = Math.floor((a - this.epochMs) / DAY_MS); this.epochMs + day * DAY_MS < b; day++) {
      const sched = this.daySchedule(m, day);
      const dayStart = this.epochMs + day * DAY_MS;
      for (let i = 0; i < sched.states.length; i++) {
        const s = dayStart + sched.starts[i]! * 1000;
        const e = dayStart + sched.starts[i + 1]! * 1000;
        if (e <= a || s >= b) continue;
        out.push({ from: Math.max(s, a), to: Math.min(e, b), state: MACHINE_STATES[sched.states[i]!]!, reason: sched.reasons[i]! });
      }
    }
    return out;
  }

  /** Parts produced (not floored) from the epoch to an instant: the integral behind TotalCount. */
  productionIntegral(machineId: string, time: TimeInput): number {
    const m = this.machine(machineId);
    return this.counters(m, toMs(time)).count;
  }

  // ---------------------------------------------------------------- overrides

  /** The override log of this run, oldest first. Not persisted: a restarted simulator starts with an empty log. */
  overrides(): Override[] {
    return this.log.map((o) => ({ ...o }));
  }

  /** Forces a machine into a state over [from, to). Callers must only add overrides at or after the last published tick. */
  addStateOverride(machineId: string, from: number, to: number, state: MachineState, reason: number): StateOverride {
    const m = this.machine(machineId);
    if (!(to > from)) throw new Error('MODEL.INVALID_OVERRIDE: a state override needs to > from');
    const o: StateOverride = { kind: 'state', seq: ++this.seq, machine: m.id, from, to, state, reason };
    const mo = this.machineOverrides(m);
    mo.states.push(o);
    this.addBoundary(mo, from);
    this.addBoundary(mo, to);
    this.productionChanged(mo, from);
    this.log.push(o);
    return o;
  }

  /** Adds a temperature excursion (a smooth bump of `delta` °C at its peak) over [from, to). */
  addExcursion(machineId: string, from: number, to: number, delta: number): ExcursionOverride {
    const m = this.machine(machineId);
    if (!(to > from)) throw new Error('MODEL.INVALID_OVERRIDE: an excursion needs to > from');
    const o: ExcursionOverride = { kind: 'excursion', seq: ++this.seq, machine: m.id, from, to, delta };
    this.machineOverrides(m).excursions.push(o);
    this.log.push(o);
    return o;
  }

  /** Records a write of a setpoint or Mode taking effect at `time`; dependent values follow from the next tick. */
  addValueOverride(ref: string, time: number, value: SampleValue): ValueOverride {
    const tag = this.tag(ref);
    if (tag.kind !== 'speedSetpoint' && tag.kind !== 'temperatureSetpoint' && tag.kind !== 'mode') throw new Error(`MODEL.NOT_WRITABLE: ${tag.id}`);
    if (tag.kind === 'mode' && !MACHINE_MODES.includes(value as MachineMode)) throw new Error(`MODEL.INVALID_MODE: ${String(value)}`);
    if (tag.kind !== 'mode' && (typeof value !== 'number' || !Number.isFinite(value))) throw new Error(`MODEL.INVALID_VALUE: ${String(value)}`);
    const gridTime = ceilTo(time, this.tickMs);
    const o: ValueOverride = { kind: 'value', seq: ++this.seq, tag: tag.id, time, gridTime, value };
    const mo = this.machineOverrides(tag.machine);
    const list = mo.values.get(tag.kind) ?? [];
    list.push(o);
    list.sort((a, b) => a.time - b.time || a.seq - b.seq);
    mo.values.set(tag.kind, list);
    this.addBoundary(mo, gridTime);
    if (tag.kind !== 'temperatureSetpoint') this.productionChanged(mo, gridTime);
    this.log.push(o);
    return o;
  }

  private machineOverrides(m: MachineInfo): MachineOverrides {
    let mo = this.overridesByMachine.get(m.index);
    if (!mo) {
      mo = { states: [], excursions: [], values: new Map(), boundaries: [], firstProductionChange: Number.POSITIVE_INFINITY, corrections: new Map() };
      this.overridesByMachine.set(m.index, mo);
    }
    return mo;
  }

  private addBoundary(mo: MachineOverrides, t: number): void {
    const i = upperBound(mo.boundaries, t);
    if (mo.boundaries[i - 1] !== t) mo.boundaries.splice(i, 0, t);
  }

  private productionChanged(mo: MachineOverrides, t: number): void {
    mo.firstProductionChange = Math.min(mo.firstProductionChange, t);
    for (const h of [...mo.corrections.keys()]) if (this.epochMs + h * HOUR_MS > t) mo.corrections.delete(h);
  }

  /** The value-changing writes of a written tag, oldest first. */
  private changesOf(tag: TagInfo): Sample[] {
    const list = this.overridesByMachine.get(tag.machine.index)?.values.get(tag.kind);
    if (!list) return [];
    const out: Sample[] = [];
    let prev = tag.baseValue;
    for (const o of list) {
      if (o.value !== prev) out.push({ time: o.time, value: o.value });
      prev = o.value;
    }
    return out;
  }

  /** The written value of a machine's tag as dependent values see it at `t` (from the write's grid time on). */
  private writtenAt(m: MachineInfo, mo: MachineOverrides | undefined, kind: TagKind, base: SampleValue, t: number): SampleValue {
    const list = mo?.values.get(kind);
    if (!list) return base;
    let v = base;
    for (const o of list) if (o.gridTime <= t) v = o.value;
    return v;
  }

  // ---------------------------------------------------------------- values

  /** The value of a grid tag at grid time g (no sample-time search). */
  rawValue(tag: TagInfo, g: number): SampleValue {
    const m = tag.machine;
    const p = m.params;
    switch (tag.kind) {
      case 'state':
        return MACHINE_STATES[this.stateAt(m, g).state]!;
      case 'downReason':
        return this.stateAt(m, g).reason;
      case 'totalCount':
        return Math.floor(this.counters(m, g).count);
      case 'goodCount':
        return Math.floor(p.yieldRate * this.counters(m, g).count);
      case 'energy':
        return Math.floor(this.counters(m, g).energy * 100) / 100;
      case 'speed': {
        const st = this.stateAt(m, g);
        if (st.state !== RUNNING) return 0;
        const sp = this.writtenAt(m, this.overridesByMachine.get(m.index), 'speedSetpoint', p.speedNominal, g) as number;
        return Math.max(0, roundTo(sp * (1 + 0.01 * this.drift(tag, g)) + 0.002 * p.speedNominal * gaussian(tag.key, g / tag.periodMs), 2));
      }
      case 'temperature':
        return roundTo(this.lagged(m, g, TEMP_TAU_S, TEMP_WINDOW_MS, (a) => this.temperatureTarget(m, a)) + 1.5 * this.drift(tag, g) + 0.15 * gaussian(tag.key, g / tag.periodMs) + this.excursion(m, g), 2);
      case 'pressure':
        return roundTo(this.lagged(m, g, PRESSURE_TAU_S, PRESSURE_WINDOW_MS, (a) => this.pressureTarget(m, a)) + 0.08 * this.drift(tag, g) + 0.02 * gaussian(tag.key, g / tag.periodMs), 3);
      case 'extra': {
        const e = tag.extra!;
        return roundTo(e.level + e.amplitude * this.drift(tag, g) + e.sigma * gaussian(tag.key, g / tag.periodMs), 3);
      }
      default:
        throw new Error(`MODEL.NOT_A_GRID_TAG: ${tag.id}`);
    }
  }

  /** Smooth drift in [-1, 1]: three slow sines with seeded periods and phases. */
  private drift(tag: TagInfo, t: number): number {
    const s = (t - this.epochMs) / 1000;
    const d = tag.drift;
    return 0.5 * Math.sin((2 * Math.PI * s) / d[0]! + d[1]!) + 0.3 * Math.sin((2 * Math.PI * s) / d[2]! + d[3]!) + 0.2 * Math.sin((2 * Math.PI * s) / d[4]! + d[5]!);
  }

  private temperatureTarget(m: MachineInfo, a: SegmentAttrs): number {
    if (a.state === RUNNING) return a.temperatureSetpoint;
    if (a.state === IDLE) return a.temperatureSetpoint - 12;
    return AMBIENT_C + 10;
  }

  private pressureTarget(m: MachineInfo, a: SegmentAttrs): number {
    const run = m.params.pressureRunning;
    if (a.state === RUNNING) return run;
    if (a.state === IDLE) return 1 + 0.4 * (run - 1);
    return 1.013;
  }

  /**
   * First-order lag of a piecewise-constant target, in closed form: the target
   * at the window start plus each later step times (1 - e^(-age/tau)). Steps
   * older than the window count in full (the error is below e^-8 of a step).
   */
  private lagged(m: MachineInfo, t: number, tauS: number, windowMs: number, target: (a: SegmentAttrs) => number): number {
    const pts = this.breakpoints(m, t - windowMs, t);
    let prevTarget = target(this.attrsAt(m, pts[0]!));
    let y = prevTarget;
    for (let i = 1; i < pts.length; i++) {
      const x = pts[i]!;
      const tg = target(this.attrsAt(m, x));
      if (tg !== prevTarget) {
        y += (tg - prevTarget) * (1 - Math.exp(-(t - x) / 1000 / tauS));
        prevTarget = tg;
      }
    }
    return y;
  }

  /** Seeded process upsets (about one hour in eight) plus scenario excursions, in °C. */
  private excursion(m: MachineInfo, t: number): number {
    let total = 0;
    const rel = t - this.epochMs;
    const hour = Math.floor(rel / HOUR_MS);
    if (unit(m.key, EXCURSION_SALT, hour) < 0.12) {
      const start = hour * HOUR_MS + Math.floor(unit(m.key, EXCURSION_SALT + 1, hour) * 3000) * 1000;
      const duration = (120 + Math.floor(unit(m.key, EXCURSION_SALT + 2, hour) * 300)) * 1000;
      const amplitude = 12 + 10 * unit(m.key, EXCURSION_SALT + 3, hour);
      if (rel >= start && rel < start + duration) total += amplitude * Math.sin((Math.PI * (rel - start)) / duration) ** 2;
    }
    const mo = this.overridesByMachine.get(m.index);
    if (mo) for (const e of mo.excursions) if (t >= e.from && t < e.to) total += e.delta * Math.sin((Math.PI * (t - e.from)) / (e.to - e.from)) ** 2;
    return total;
  }

  // ---------------------------------------------------------------- state

  private daySchedule(m: MachineInfo, day: number): DaySchedule {
    const cache = this.dayCache[m.index]!;
    let s = cache.get(day);
    if (!s) {
      s = buildDaySchedule(m.key, day, dayTotals(m.profile, m.key, day));
      cache.set(day, s);
      if (cache.size > 6) cache.delete(cache.keys().next().value!);
    }
    return s;
  }

  private baseAt(m: MachineInfo, t: number): { schedule: DaySchedule; index: number; dayStart: number; sec: number } {
    const rel = t - this.epochMs;
    const day = Math.floor(rel / DAY_MS);
    const dayStart = this.epochMs + day * DAY_MS;
    const sec = (t - dayStart) / 1000;
    const schedule = this.daySchedule(m, day);
    return { schedule, index: segmentIndex(schedule, Math.floor(sec)), dayStart, sec };
  }

  private stateAt(m: MachineInfo, t: number): { state: number; reason: number } {
    const mo = this.overridesByMachine.get(m.index);
    if (mo) {
      for (let i = mo.states.length - 1; i >= 0; i--) {
        const o = mo.states[i]!;
        if (t >= o.from && t < o.to) return { state: MACHINE_STATES.indexOf(o.state), reason: o.reason };
      }
      const mode = this.writtenAt(m, mo, 'mode', 'Run', t);
      if (mode === 'Program') return { state: IDLE, reason: REASON_PROGRAMMING };
      if (mode === 'Maintenance') return { state: IDLE, reason: REASON_MAINTENANCE_MODE };
    }
    const b = this.baseAt(m, t);
    const state = b.schedule.states[b.index]!;
    return { state, reason: state === RUNNING ? REASON_NONE : b.schedule.reasons[b.index]! };
  }

  private attrsAt(m: MachineInfo, t: number): SegmentAttrs {
    const mo = this.overridesByMachine.get(m.index);
    const st = this.stateAt(m, t);
    if (!mo) return { state: st.state, reason: st.reason, baseState: st.state, speedSetpoint: m.params.speedNominal, temperatureSetpoint: m.params.temperatureSetpoint };
    const b = this.baseAt(m, t);
    return {
      state: st.state,
      reason: st.reason,
      baseState: b.schedule.states[b.index]!,
      speedSetpoint: this.writtenAt(m, mo, 'speedSetpoint', m.params.speedNominal, t) as number,
      temperatureSetpoint: this.writtenAt(m, mo, 'temperatureSetpoint', m.params.temperatureSetpoint, t) as number,
    };
  }

  /** `a` and every time in (a, b) where the base schedule or an override may change a machine's state or setpoints. */
  private breakpoints(m: MachineInfo, a: number, b: number): number[] {
    const pts = [a];
    const firstDay = Math.floor((a - this.epochMs) / DAY_MS);
    for (let day = firstDay; this.epochMs + day * DAY_MS < b; day++) {
      const dayStart = this.epochMs + day * DAY_MS;
      const sched = this.daySchedule(m, day);
      const n = sched.states.length;
      let i = day === firstDay ? segmentIndex(sched, Math.floor((a - dayStart) / 1000)) + 1 : 0;
      for (; i < n; i++) {
        const x = dayStart + sched.starts[i]! * 1000;
        if (x >= b) break;
        if (x > a) pts.push(x);
      }
    }
    const mo = this.overridesByMachine.get(m.index);
    if (mo && mo.boundaries.length > 0) {
      for (let i = upperBound(mo.boundaries, a); i < mo.boundaries.length && mo.boundaries[i]! < b; i++) pts.push(mo.boundaries[i]!);
      pts.sort((x, y) => x - y);
      return pts.filter((x, i) => i === 0 || x !== pts[i - 1]);
    }
    return pts;
  }

  // ---------------------------------------------------------------- counters

  private powerOf(m: MachineInfo, state: number, speedFactor: number): number {
    const p = m.params;
    if (state === RUNNING) return p.powerRunning * (0.4 + 0.6 * speedFactor);
    return state === IDLE ? p.powerIdle : p.powerDown;
  }

  /** Production (parts, not floored) and energy (kWh) from the epoch to t. */
  private counters(m: MachineInfo, t: number): { count: number; energy: number } {
    const p = m.params;
    const b = this.baseAt(m, t);
    const day = Math.floor((t - this.epochMs) / DAY_MS);
    const before = totalsBeforeDay(m.profile, m.key, day);
    const i = b.index;
    const s = b.schedule;
    const into = b.sec - s.starts[i]!;
    const run = before.run + s.runBefore[i]! + (s.states[i] === RUNNING ? into : 0);
    const idle = before.idle + s.idleBefore[i]! + (s.states[i] === IDLE ? into : 0);
    const down = (t - this.epochMs) / 1000 - run - idle;
    let count = p.rate * run;
    let energy = (p.powerRunning * run + p.powerIdle * idle + p.powerDown * down) / 3600;
    const mo = this.overridesByMachine.get(m.index);
    if (mo && t > mo.firstProductionChange) {
      const c = this.correction(m, mo, t);
      count += c.count;
      energy += c.energy;
    }
    return { count, energy };
  }

  /** What overrides add to the counter integrals up to t, built hour by hour from the first override (memoised). */
  private correction(m: MachineInfo, mo: MachineOverrides, t: number): { count: number; energy: number } {
    const hourOf = (x: number): number => Math.floor((x - this.epochMs) / HOUR_MS);
    const hourStart = (h: number): number => this.epochMs + h * HOUR_MS;
    const firstHour = hourOf(mo.firstProductionChange);
    const h = hourOf(t);
    let at = { count: 0, energy: 0 };
    let k = firstHour;
    for (let j = h; j > firstHour; j--) {
      const memo = mo.corrections.get(j);
      if (memo) {
        at = memo;
        k = j;
        break;
      }
    }
    for (; k < h; k++) {
      const d = this.correctionBetween(m, hourStart(k), hourStart(k + 1));
      at = { count: at.count + d.count, energy: at.energy + d.energy };
      mo.corrections.set(k + 1, at);
    }
    const d = this.correctionBetween(m, hourStart(h), t);
    return { count: at.count + d.count, energy: at.energy + d.energy };
  }

  private correctionBetween(m: MachineInfo, a: number, b: number): { count: number; energy: number } {
    if (b <= a) return { count: 0, energy: 0 };
    const pts = this.breakpoints(m, a, b);
    let count = 0;
    let energy = 0;
    for (let i = 0; i < pts.length; i++) {
      const x = pts[i]!;
      const y = i + 1 < pts.length ? pts[i + 1]! : b;
      const at = this.attrsAt(m, x);
      const secs = (y - x) / 1000;
      const factor = at.speedSetpoint / m.params.speedNominal;
      count += m.params.rate * ((at.state === RUNNING ? factor : 0) - (at.baseState === RUNNING ? 1 : 0)) * secs;
      energy += ((this.powerOf(m, at.state, factor) - this.powerOf(m, at.baseState, 1)) * secs) / 3600;
    }
    return { count, energy };
  }

  // ---------------------------------------------------------------- sample times

  /** Source time of the sample that set the value `v` seen at grid time g. */
  private lastChange(tag: TagInfo, g: number, v: SampleValue): number {
    const p = tag.periodMs;
    const epoch = this.epochMs;
    if (tag.kind === 'totalCount' || tag.kind === 'goodCount' || tag.kind === 'energy') {
      // Monotone: exponential search back for a smaller value, then bisect.
      let hi = g;
      let lo = epoch;
      let step = p;
      for (;;) {
        const cand = hi - step;
        if (cand < epoch) {
          if (this.rawValue(tag, epoch) === v) return epoch;
          break;
        }
        if (this.rawValue(tag, cand) !== v) {
          lo = cand;
          break;
        }
        hi = cand;
        step *= 2;
      }
      while (hi - lo > p) {
        const mid: number = lo + Math.floor((hi - lo) / p / 2) * p;
        if (this.rawValue(tag, mid) === v) hi = mid;
        else lo = mid;
      }
      return hi;
    }
    let cur = g;
    for (;;) {
      let since = cur;
      if (tag.kind === 'state' || tag.kind === 'downReason' || (tag.kind === 'speed' && this.stateAt(tag.machine, cur).state !== RUNNING)) since = this.segmentStart(tag.machine, cur);
      const gp = Math.min(cur, Math.max(ceilTo(since, p), epoch));
      if (gp <= epoch) return epoch;
      const prev = gp - p;
      if (this.rawValue(tag, prev) !== v) return gp;
      cur = prev;
    }
  }

  /** Start of the stretch around t where the machine's state and reason cannot have changed. */
  private segmentStart(m: MachineInfo, t: number): number {
    const b = this.baseAt(m, t);
    let s = b.dayStart + b.schedule.starts[b.index]! * 1000;
    const mo = this.overridesByMachine.get(m.index);
    if (mo && mo.boundaries.length > 0) {
      const i = upperBound(mo.boundaries, t);
      if (i > 0) s = Math.max(s, mo.boundaries[i - 1]!);
    }
    return s;
  }
}

/** Index of the first element greater than x in a sorted array. */
function upperBound(arr: readonly number[], x: number): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (arr[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
