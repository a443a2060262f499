import { counterBefore, stateStretches, type SimulatorHistory, type StateStretch } from './ground-truth';

/** A shift rule as erp-sync is configured with it (`HH:MM` in the site's time zone, UTC here). */
export interface ShiftRule {
  name: string;
  start: string;
  end: string;
  breakMinutes: number;
}

const minutesOf = (hhmm: string): number => {
  const [h, m] = hhmm.split(':').map(Number);
  return h! * 60 + m!;
};

/**
 * Planned busy time of a machine over [from, to) under UTC shift rules, as
 * the API defines it (services/analytics-api README, "KPI definitions";
 * migration 0008): per shift, the part of the window in the shift less the
 * shift's planned break prorated over it; break time the machine ran through
 * (its run time beyond that, at most the break) counts as planned. Nothing
 * is excluded (no gaps may exist).
 */
export function plannedBusySeconds(rules: readonly ShiftRule[], stretches: readonly StateStretch[], from: number, to: number): number {
  let busy = 0;
  const day0 = Math.floor(from / 86_400_000) - 1;
  const day1 = Math.floor(to / 86_400_000);
  for (let d = day0; d <= day1; d++) {
    for (const r of rules) {
      const start = d * 86_400_000 + minutesOf(r.start) * 60_000;
      let end = d * 86_400_000 + minutesOf(r.end) * 60_000;
      if (end <= start) end += 86_400_000;
      const a = Math.max(start, from);
      const b = Math.min(end, to);
      if (b <= a) continue;
      const planned = ((b - a) / 1000) * (1 - (r.breakMinutes * 60_000) / (end - start));
      const run = stretches.filter((s) => s.state === 'running').reduce((sum, s) => sum + Math.max(0, Math.min(s.to, b) - Math.max(s.from, a)) / 1000, 0);
      busy += Math.max(planned, run);
    }
  }
  return busy;
}

/** What the simulator's history implies for one machine over [from, to). */
export interface ExpectedOee {
  machine: string;
  plannedBusyS: number;
  runS: number;
  idleS: number;
  downS: number;
  produced: number;
  good: number;
  idealCycleTimeS: number;
  availability: number;
  /** Null without run time (or produced quantity, for quality), as the API answers. */
  performance: number | null;
  quality: number | null;
  oee: number | null;
  /** Seconds per (state, reason) outside running. */
  stops: Map<number, { state: string; seconds: number }>;
  stretches: StateStretch[];
}

/**
 * OEE of a machine over [from, to) computed from the simulator's ground truth
 * alone: run/idle/down seconds from its State and DownReason histories,
 * produced and good quantity as the counters' rise over the window (the
 * value in force before `to` minus the value in force before `from`), the
 * ideal cycle time from the ERP order, planned busy time from the shift
 * rules (no time is excluded: nothing may be missing).
 */
export async function expectedOee(history: SimulatorHistory, machine: string, idealCycleTimeS: number, rules: readonly ShiftRule[], from: number, to: number): Promise<ExpectedOee> {
  const stretches = await stateStretches(history, machine, from, to);
  const secondsIn = (state: string): number => stretches.filter((s) => s.state === state).reduce((sum, s) => sum + (s.to - s.from) / 1000, 0);
  const runS = secondsIn('running');
  const produced = (await counterBefore(history, `${machine}.TotalCount`, to)) - (await counterBefore(history, `${machine}.TotalCount`, from));
  const good = (await counterBefore(history, `${machine}.GoodCount`, to)) - (await counterBefore(history, `${machine}.GoodCount`, from));
  const plannedBusyS = plannedBusySeconds(rules, stretches, from, to);
  const stops = new Map<number, { state: string; seconds: number }>();
  for (const s of stretches) {
    if (s.state === 'running') continue;
    const e = stops.get(s.reason) ?? { state: s.state, seconds: 0 };
    e.seconds += (s.to - s.from) / 1000;
    stops.set(s.reason, e);
  }
  const availability = runS / plannedBusyS;
  const performance = runS > 0 ? (idealCycleTimeS * produced) / runS : null;
  const quality = produced > 0 ? good / produced : null;
  return {
    machine,
    plannedBusyS,
    runS,
    idleS: secondsIn('idle'),
    downS: secondsIn('down'),
    produced,
    good,
    idealCycleTimeS,
    availability,
    performance,
    quality,
    oee: performance === null || quality === null ? null : availability * performance * quality,
    stops,
    stretches,
  };
}
