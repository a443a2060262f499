import { writeFileSync } from 'node:fs';
import type { ScenarioStepInput } from '@weir/plant-simulator';
import type { DemoErp } from '../platform/demo-erp';

/** The plant of the end-to-end run: one site, two lines of two machines (48 tags). */
export const E2E_PLANT = { seed: 'weir-e2e', sitesPerEnterprise: 1, linesPerArea: 2, machinesPerLine: 2, extraTagsPerMachine: 0 } as const;

/** The simulator's OPC UA users: the operator at the HMI, and the engineer whose password the intruder holds. */
export const E2E_USERS = { operator: 'operator-e2e-secret', engineer: 'engineer-e2e-secret' } as const;

/**
 * When things happen, in seconds after the simulator started. The simulator
 * starts last, right before the connector (`startLast`); the connector must
 * be subscribed to values and events before the first step: `lead` is that
 * budget.
 */
export const TIMELINE = {
  lead: 45,
  /** The operator changes the speed setpoint of a machine under maintenance (open work order): benign. */
  operatorSetpoint: 50,
  /** A jam (303) stops another machine for 40 s, then an electrical failure (302) keeps it down 20 s more: benign. */
  downtimeStart: 60,
  downtimeDuration: 40,
  secondFaultDuration: 20,
  /** The engineer's VPN logon without MFA, sent by the test to it-events over syslog. */
  vpnLogon: 80,
  /** An unknown engineering station, with the engineer's credentials, writes a speed setpoint of a machine without a work order. */
  rogueWrite: 95,
  /** End of the observed window. */
  end: 135,
} as const;

/** The machines the scenario acts on, chosen from the ERP data the platform is given. */
export interface ScenarioCast {
  /** Has an open maintenance work order: the operator's write is expected there. */
  maintained: string;
  /** Goes down for a while. */
  jammed: string;
  /** No work order: the rogue write lands here. */
  target: string;
  /** The value the rogue station writes to the target's SpeedSetpoint. */
  rogueSpeed: number;
}

/** Picks the machines from the ERP data: work orders decide which writes are expected. */
export function castScenario(erp: DemoErp): ScenarioCast {
  const machines = erp.assets.filter((a) => a.level === 'machine').map((a) => String(a.id));
  const maintainedSet = new Set(erp.workOrders.map((w) => String(w.assetId)));
  const maintained = machines.find((m) => maintainedSet.has(m));
  const unmaintained = machines.filter((m) => !maintainedSet.has(m));
  if (!maintained || unmaintained.length < 2) throw new Error(`the e2e plant needs a machine with and two without a work order (machines: ${machines.join(', ')})`);
  const target = unmaintained[0]!;
  const limits = erp.assets.find((a) => a.id === target)!['limits'] as { speed: { high: number } };
  // Nominal speed is half the ERP's high limit: 120 % of nominal is a plausible, in-range setpoint.
  return { maintained, jammed: unmaintained[1]!, target, rogueSpeed: Math.round(limits.speed.high * 0.6) };
}

/** The simulator's scenario file for the cast (JSON). */
export function writeScenarioFile(file: string, cast: ScenarioCast): ScenarioStepInput[] {
  const steps: ScenarioStepInput[] = [
    { at: `${TIMELINE.operatorSetpoint}s`, action: 'setpoint', machine: cast.maintained, tag: 'SpeedSetpoint', user: 'operator' },
    { at: `${TIMELINE.downtimeStart}s`, action: 'downtime', machine: cast.jammed, duration: `${TIMELINE.downtimeDuration}s`, reason: 303 },
    { at: `${TIMELINE.downtimeStart + TIMELINE.downtimeDuration}s`, action: 'downtime', machine: cast.jammed, duration: `${TIMELINE.secondFaultDuration}s`, reason: 302 },
    { at: `${TIMELINE.rogueWrite}s`, action: 'unknownClientWrite', machine: cast.target, tag: 'SpeedSetpoint', value: cast.rogueSpeed, user: 'engineer' },
  ];
  writeFileSync(file, JSON.stringify({ steps }, null, 2));
  return steps;
}
