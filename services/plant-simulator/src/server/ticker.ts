import { StatusCodes, Variant, type UAVariable } from 'node-opcua';
import type { Logger } from '@weir/observability';
import type { PlantModel, SampleValue, TagInfo } from '../model/plant-model';
import { DATA_TYPES } from './address-space';

interface Slot {
  tag: TagInfo;
  variable: UAVariable;
  last: SampleValue | undefined;
}

/**
 * Publishes the model on the tick grid: at each grid time every tag whose
 * period divides it is computed and, when it changed, set with that grid time
 * as source timestamp — so what a subscriber receives is exactly what history
 * returns for the same range. A late timer catches up tick by tick; past
 * `maxCatchUpTicks` it jumps to now (the skipped samples stay in history).
 */
export class Ticker {
  private timer: NodeJS.Timeout | undefined;
  private readonly groups = new Map<number, Slot[]>();
  private readonly slots: Slot[] = [];
  private stopped = false;
  /** The latest grid time published. */
  lastPublished = 0;

  constructor(
    private readonly model: PlantModel,
    variables: ReadonlyMap<string, UAVariable>,
    private readonly options: { maxCatchUpTicks: number; logger: Logger; onChanges: (n: number, lagMs: number) => void },
  ) {
    for (const tag of model.tags) {
      const variable = variables.get(tag.id);
      if (!variable) continue;
      const slot: Slot = { tag, variable, last: undefined };
      this.slots.push(slot);
      if (tag.periodMs > 0) {
        const g = this.groups.get(tag.periodMs) ?? [];
        g.push(slot);
        this.groups.set(tag.periodMs, g);
      }
    }
  }

  /** Sets every variable to its sample in effect now (with that sample's time) and starts the tick loop. */
  start(now = Date.now()): void {
    this.resync(now);
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** Sets all variables from the model at `now`, each with the source time of its latest sample. */
  private resync(now: number): void {
    let n = 0;
    for (const slot of this.slots) {
      const s = this.model.valueAt(slot.tag.id, now);
      this.set(slot, s.value, s.time);
      n++;
    }
    this.lastPublished = this.model.tickAtOrBefore(now);
    this.options.onChanges(n, 0);
  }

  private set(slot: Slot, value: SampleValue, time: number): void {
    slot.last = value;
    slot.variable.setValueFromSource(new Variant({ dataType: DATA_TYPES[slot.tag.dataType], value }), StatusCodes.Good, new Date(time));
  }

  private schedule(): void {
    if (this.stopped) return;
    const next = this.lastPublished + this.model.tickMs;
    this.timer = setTimeout(() => this.onTimer(), Math.max(0, next - Date.now()));
  }

  private onTimer(): void {
    try {
      const now = Date.now();
      const tick = this.model.tickMs;
      const behind = Math.floor((now - this.lastPublished) / tick);
      if (behind > this.options.maxCatchUpTicks) {
        this.options.logger.warn({ behindTicks: behind }, 'tick loop fell behind; jumping to now (history still has every sample)');
        this.resync(now);
      } else {
        for (let g = this.lastPublished + tick; g <= now; g += tick) this.publish(g, now);
      }
    } catch (err) {
      this.options.logger.error({ err }, 'tick failed');
    }
    this.schedule();
  }

  private publish(g: number, now: number): void {
    let changes = 0;
    for (const [period, slots] of this.groups) {
      if (g % period !== 0) continue;
      for (const slot of slots) {
        const v = this.model.rawValue(slot.tag, g);
        if (v !== slot.last) {
          this.set(slot, v, g);
          changes++;
        }
      }
    }
    this.lastPublished = g;
    this.options.onChanges(changes, now - g);
  }
}
