/** A machine's state as served in its `State` variable. */
export type MachineState = 'running' | 'idle' | 'down';

/** The machine states, in the order of their numeric codes (0 running, 1 idle, 2 down). */
export const MACHINE_STATES: readonly MachineState[] = ['running', 'idle', 'down'];

/** One entry of the downtime reason taxonomy. */
export interface DownReason {
  code: number;
  /** Which state the reason goes with: idle (available, not producing) or down (cannot produce). */
  state: Exclude<MachineState, 'running'>;
  category: 'none' | 'planned' | 'material' | 'technical' | 'quality';
  name: string;
}

/**
 * The reason taxonomy served in `DownReason`: 0 while running; 1xx planned and
 * 2xx material stops leave the machine idle; 3xx technical and 4xx quality
 * stops take it down. The hundreds digit is the category, so a Pareto chart can
 * group by `floor(code / 100)`.
 */
export const DOWN_REASONS: readonly DownReason[] = [
  { code: 101, state: 'idle', category: 'planned', name: 'break' },
  { code: 102, state: 'idle', category: 'planned', name: 'shift handover' },
  { code: 103, state: 'idle', category: 'planned', name: 'changeover / setup' },
  { code: 104, state: 'idle', category: 'planned', name: 'planned maintenance' },
  { code: 105, state: 'idle', category: 'planned', name: 'no order scheduled' },
  { code: 106, state: 'idle', category: 'planned', name: 'programming (Mode = Program)' },
  { code: 201, state: 'idle', category: 'material', name: 'starved (no material from upstream)' },
  { code: 202, state: 'idle', category: 'material', name: 'blocked (downstream full)' },
  { code: 203, state: 'idle', category: 'material', name: 'material shortage' },
  { code: 204, state: 'idle', category: 'material', name: 'wrong material' },
  { code: 301, state: 'down', category: 'technical', name: 'mechanical failure' },
  { code: 302, state: 'down', category: 'technical', name: 'electrical failure' },
  { code: 303, state: 'down', category: 'technical', name: 'jam' },
  { code: 304, state: 'down', category: 'technical', name: 'tool breakage' },
  { code: 305, state: 'down', category: 'technical', name: 'sensor fault' },
  { code: 306, state: 'down', category: 'technical', name: 'control / PLC fault' },
  { code: 401, state: 'down', category: 'quality', name: 'quality check' },
  { code: 402, state: 'down', category: 'quality', name: 'out of tolerance' },
  { code: 403, state: 'down', category: 'quality', name: 'rework / adjustment' },
];

/** Reason code while the machine is running. */
export const REASON_NONE = 0;
/** Reason while Mode is Program. */
export const REASON_PROGRAMMING = 106;
/** Reason while Mode is Maintenance. */
export const REASON_MAINTENANCE_MODE = 104;

// Reasons the seeded schedule draws from, with relative weights (planned and
// starved/blocked stops are the common ones, quality stops the rare ones).
/** @internal */
export const SCHEDULED_IDLE_REASONS: ReadonlyArray<readonly [number, number]> = [
  [101, 4], [102, 2], [103, 3], [105, 1], [201, 4], [202, 3], [203, 1], [204, 0.5],
];
/** @internal */
export const SCHEDULED_DOWN_REASONS: ReadonlyArray<readonly [number, number]> = [
  [301, 3], [302, 1.5], [303, 4], [304, 1.5], [305, 1], [306, 0.5], [401, 1.5], [402, 1], [403, 1],
];

/** The taxonomy entry of a code, if it is one. */
export function downReason(code: number): DownReason | undefined {
  return DOWN_REASONS.find((r) => r.code === code);
}

/** The machine operating modes served in `Mode`. */
export const MACHINE_MODES = ['Run', 'Program', 'Maintenance'] as const;
/** A machine operating mode. */
export type MachineMode = (typeof MACHINE_MODES)[number];
