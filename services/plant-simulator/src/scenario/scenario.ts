import { readFileSync } from 'node:fs';
import { fields } from '@weir/config';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { MACHINE_MODES } from '../model/reasons';
import { SECURITY_MODES } from './opcua-client';

const machine = z.string().min(1).describe('dotted machine id, e.g. Site01.Area01.Line01.Machine01');
const at = fields.durationMs().describe('offset from the first tick after start');

/** A machine goes down (or idle) with a reason for a while. Deterministic: registered in the model at load. */
export const downtimeStep = z.object({
  at,
  action: z.literal('downtime'),
  machine,
  duration: fields.durationMs(),
  /** A reason code from the taxonomy; 3xx/4xx take the machine down, 1xx/2xx leave it idle. Seeded 3xx when absent. */
  reason: z.number().int().min(100).max(499).optional(),
});

/** An operator changes a setpoint through a real OPC UA session with a configured user. */
export const setpointStep = z.object({
  at,
  action: z.literal('setpoint'),
  machine,
  tag: z.enum(['SpeedSetpoint', 'TemperatureSetpoint']),
  /** The new value; seeded (+/-5..15 % of the base) when absent. */
  value: z.number().finite().optional(),
  user: z.string().min(1),
});

/** An engineer switches the operating mode (e.g. to Program) through a real session. */
export const modeStep = z.object({
  at,
  action: z.literal('mode'),
  machine,
  mode: z.enum(MACHINE_MODES),
  user: z.string().min(1),
});

/** A client the plant does not know (its own application URI and certificate) writes a tag. */
export const unknownClientWriteStep = z.object({
  at,
  action: z.literal('unknownClientWrite'),
  machine,
  tag: z.enum(['SpeedSetpoint', 'TemperatureSetpoint', 'Mode']),
  value: z.union([z.number().finite(), z.string()]).optional(),
  applicationUri: z.string().min(1).default('urn:unknown:rogue-engineering-station'),
  /** A configured user whose password the intruder holds; anonymous when absent. */
  user: z.string().min(1).optional(),
  /** Message security of the intruder's channel; None if the server offers it, else SignAndEncrypt. */
  security: z.enum(SECURITY_MODES).optional(),
});

/** The temperature rises by `delta` °C at its peak (half-way) and falls back: crosses the alarm limits when delta > 10 / 18. */
export const temperatureExcursionStep = z.object({
  at,
  action: z.literal('temperatureExcursion'),
  machine,
  duration: fields.durationMs(),
  delta: z.number().finite().default(25),
});

/** One timed step of a scenario. */
export const scenarioStepSchema = z.discriminatedUnion('action', [downtimeStep, setpointStep, modeStep, unknownClientWriteStep, temperatureExcursionStep]);
/** One timed step of a scenario, as parsed. */
export type ScenarioStep = z.infer<typeof scenarioStepSchema>;
/** A step as written in a file or passed from a test (durations as `30s` or ms, defaults not yet filled). */
export type ScenarioStepInput = z.input<typeof scenarioStepSchema>;

/** The steps of a scenario. */
export const scenarioSchema = z.array(scenarioStepSchema);

/** Parses a scenario: a list of steps, or an object with `steps:`; throws `SCENARIO.INVALID` listing every problem. */
export function parseScenario(input: unknown): ScenarioStep[] {
  const steps = input !== null && typeof input === 'object' && !Array.isArray(input) && 'steps' in input ? (input as { steps: unknown }).steps : input;
  const result = scenarioSchema.safeParse(steps);
  if (!result.success) {
    throw new Error(`SCENARIO.INVALID: ${result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  }
  return result.data;
}

/** Reads a YAML or JSON scenario file. */
export function loadScenarioFile(file: string): ScenarioStep[] {
  const text = readFileSync(file, 'utf8');
  return parseScenario(file.endsWith('.json') ? JSON.parse(text) : parseYaml(text));
}
