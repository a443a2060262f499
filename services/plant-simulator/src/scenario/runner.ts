import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { AttributeIds, DataType } from 'node-opcua';
import type { Logger } from '@weir/observability';
import { hashString, unit } from '../model/hash';
import type { Override, PlantModel, SampleValue } from '../model/plant-model';
import { DOWN_REASONS } from '../model/reasons';
import { connectClient, prepareClientIdentity, type ClientIdentity, type SecurityModeName, type SecurityPolicyName } from './opcua-client';
import type { ScenarioStep } from './scenario';

/** What the runner needs from the running simulator. */
export interface ScenarioDeps {
  model: PlantModel;
  endpointUrl: string;
  namespaceIndex: number;
  users: ReadonlyMap<string, string>;
  stateDir: string;
  offered: { policies: readonly SecurityPolicyName[]; modes: readonly SecurityModeName[] };
  /** Makes the server trust a client certificate (DER). */
  trustClientCertificate: (der: Buffer) => Promise<void>;
  /** The first tick not yet published: the earliest time an override may start. */
  nextTick: () => number;
  logger: Logger;
}

/** The outcome of one step. */
export interface StepResult {
  step: ScenarioStep;
  /** When the step was due (ms). */
  at: number;
  /** False while a timed write has not run yet. */
  done: boolean;
  ok: boolean;
  /** OPC UA status of a write. */
  statusCode?: string;
  error?: string;
  /** The value written or the override registered. */
  value?: SampleValue;
  override?: Override;
}

/** Application URI of the HMI the scenario's operators and engineers use. */
export const SCENARIO_HMI_URI = 'urn:weir:plant-simulator:scenario-hmi';

/**
 * Runs scenario steps. Downtime and excursions become model overrides the
 * moment they are scheduled (so history and live values agree in advance);
 * writes run at their time through a real OPC UA session, so the server
 * raises real audit events for them.
 */
export class ScenarioRunner {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly all: StepResult[] = [];
  private stopped = false;

  constructor(private readonly deps: ScenarioDeps) {}

  /** Every step scheduled or run so far, with its outcome. */
  results(): StepResult[] {
    return this.all.map((r) => ({ ...r }));
  }

  /** Schedules steps relative to `zero` (ms, a tick): step time = first tick at or after zero + at. */
  schedule(steps: readonly ScenarioStep[], zero: number): StepResult[] {
    return steps.map((step, index) => {
      const at = this.deps.model.nextTick(zero + step.at);
      const result: StepResult = { step, at, done: false, ok: false };
      this.all.push(result);
      if (step.action === 'downtime' || step.action === 'temperatureExcursion') {
        this.applyOverride(step, at, index, result);
        return result;
      }
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        void this.track(this.write(step, index, result));
      }, Math.max(0, at - Date.now()));
      this.timers.add(timer);
      return result;
    });
  }

  /** Runs one step now (overrides start at the next tick) and resolves with its outcome. */
  async run(step: ScenarioStep): Promise<StepResult> {
    const index = this.all.length;
    const at = this.deps.nextTick();
    const result: StepResult = { step, at, done: false, ok: false };
    this.all.push(result);
    if (step.action === 'downtime' || step.action === 'temperatureExcursion') {
      this.applyOverride(step, at, index, result);
      return { ...result };
    }
    await this.track(this.write(step, index, result));
    return { ...result };
  }

  /** Cancels timed steps not yet run and waits for writes in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await Promise.allSettled([...this.inFlight]);
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
    return p;
  }

  private seeded(step: ScenarioStep, index: number, salt: number): number {
    return unit(hashString(`${this.deps.model.seed}|scenario|${step.action}|${step.machine}`), index, salt);
  }

  private applyOverride(step: Extract<ScenarioStep, { action: 'downtime' | 'temperatureExcursion' }>, at: number, index: number, result: StepResult): void {
    const { model } = this.deps;
    try {
      if (step.action === 'downtime') {
        const technical = DOWN_REASONS.filter((r) => r.category === 'technical');
        const reason = step.reason ?? technical[Math.floor(this.seeded(step, index, 1) * technical.length)]!.code;
        const state = reason >= 300 ? 'down' : 'idle';
        result.override = model.addStateOverride(step.machine, at, at + step.duration, state, reason);
        result.value = reason;
      } else {
        result.override = model.addExcursion(step.machine, at, at + step.duration, step.delta);
        result.value = step.delta;
      }
      result.ok = true;
    } catch (err) {
      result.error = (err as Error).message;
    }
    result.done = true;
  }

  private async write(step: Extract<ScenarioStep, { action: 'setpoint' | 'mode' | 'unknownClientWrite' }>, index: number, result: StepResult): Promise<void> {
    const { model, users, offered } = this.deps;
    try {
      if (this.stopped) throw new Error('SCENARIO.STOPPED: the simulator is stopping');
      const tagName = step.action === 'mode' ? 'Mode' : step.tag;
      const tag = model.tag(`${step.machine}.${tagName}`);
      let value: SampleValue;
      if (step.action === 'mode') value = step.mode;
      else if (step.value !== undefined) value = step.value;
      else if (tag.kind === 'mode') value = 'Program';
      else {
        const base = tag.baseValue as number;
        const u = this.seeded(step, index, 2);
        value = Math.round(base * (1 + (u < 0.5 ? -1 : 1) * (0.05 + 0.2 * Math.abs(u - 0.5))) * 10) / 10;
      }
      result.value = value;

      const rogue = step.action === 'unknownClientWrite';
      const identity: ClientIdentity = rogue
        ? { applicationUri: step.applicationUri, applicationName: 'rogue-engineering-station', pkiDir: join(this.deps.stateDir, 'rogue-client-pki', createHash('sha1').update(step.applicationUri).digest('hex').slice(0, 12)) }
        : { applicationUri: SCENARIO_HMI_URI, applicationName: 'Weir scenario HMI', pkiDir: join(this.deps.stateDir, 'scenario-client-pki') };
      const secure = (mode: SecurityModeName): { securityMode: SecurityModeName; securityPolicy: SecurityPolicyName } => {
        if (mode === 'None') return { securityMode: 'None', securityPolicy: 'None' };
        const policy = offered.policies.includes('Basic256Sha256') ? 'Basic256Sha256' : offered.policies.find((p) => p !== 'None');
        if (!policy) throw new Error('SCENARIO.NO_SECURE_ENDPOINT: the server offers no secure policy');
        return { securityMode: mode, securityPolicy: policy };
      };
      let security: { securityMode: SecurityModeName; securityPolicy: SecurityPolicyName };
      if (rogue) security = secure(step.security ?? (offered.modes.includes('None') && offered.policies.includes('None') ? 'None' : 'SignAndEncrypt'));
      else security = secure(offered.modes.includes('SignAndEncrypt') ? 'SignAndEncrypt' : offered.modes.includes('Sign') ? 'Sign' : 'None');

      const userName = step.user;
      let user: { username: string; password: string } | undefined;
      if (userName !== undefined) {
        const password = users.get(userName);
        if (password === undefined) throw new Error(`SCENARIO.UNKNOWN_USER: "${userName}" is not a configured user`);
        user = { username: userName, password };
      }
      if (security.securityMode !== 'None') {
        // The HMI is commissioned; the intruder stands for a stolen or planted trusted certificate.
        const prepared = await prepareClientIdentity(identity);
        await prepared.certificateManager.dispose();
        await this.deps.trustClientCertificate(prepared.certificate);
      }
      const conn = await connectClient({ endpointUrl: this.deps.endpointUrl, identity, ...security, ...(user ? { user } : {}), sessionName: rogue ? 'rogue' : 'weir-scenario' });
      try {
        const statusCode = await conn.session.write({
          nodeId: `ns=${this.deps.namespaceIndex};s=${tag.id}`,
          attributeId: AttributeIds.Value,
          value: { value: { dataType: typeof value === 'string' ? DataType.String : DataType.Double, value } },
        });
        result.statusCode = statusCode.name;
        result.ok = statusCode.isGood();
      } finally {
        await conn.close();
      }
    } catch (err) {
      result.error = (err as Error).message;
      this.deps.logger.warn({ action: step.action, machine: step.machine, err }, 'scenario step failed');
    }
    result.done = true;
  }
}
