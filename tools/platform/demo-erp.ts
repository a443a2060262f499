import { PlantModel, type PlantShape } from '@weir/plant-simulator';

/** What the demo ERP knows about the simulated plant: one asset per ISA-95 node, an order and a work order per machine. */
export interface DemoErp {
  assets: Array<Record<string, unknown>>;
  productionOrders: Array<Record<string, unknown>>;
  workOrders: Array<Record<string, unknown>>;
  /** Site ids, for the shift calendar. */
  sites: string[];
}

/**
 * Builds the ERP master data that matches a simulated plant, from the same
 * seed and shape the simulator uses: asset ids are the simulator's dotted
 * node ids (`Site01.Area01.Line01.Machine01`), each machine runs one
 * production order whose ideal cycle time is the machine's own (so the OEE
 * the platform computes is the one the simulator implies), and has the
 * temperature limits of its alarm as safe limits. `from` is when the orders
 * and the tree become valid.
 */
export function demoErp(options: { seed: string; shape: Partial<PlantShape>; enterprise: string; from: Date; costCentrePrefix?: string }): DemoErp {
  const model = new PlantModel({ seed: options.seed, shape: options.shape });
  const validFrom = options.from.toISOString();
  const changedAt = validFrom;
  const assets = new Map<string, Record<string, unknown>>();
  const add = (id: string, parentId: string | null, level: string, name: string, extra: Record<string, unknown> = {}): void => {
    if (!assets.has(id)) assets.set(id, { id, parentId, level, name, validFrom, changedAt, ...extra });
  };
  const productionOrders: Array<Record<string, unknown>> = [];
  const workOrders: Array<Record<string, unknown>> = [];
  for (const m of model.machines) {
    const site = m.site;
    const area = `${m.site}.${m.area}`;
    const line = `${area}.${m.line}`;
    add(site, null, 'site', site);
    add(area, site, 'area', area);
    add(line, area, 'line', `${m.line} (${area})`, { costCentre: `${options.costCentrePrefix ?? 'CC'}-${m.line}` });
    add(m.id, line, 'machine', m.machine, {
      limits: {
        temperature: { low: 0, high: m.params.temperatureHigh, unit: '°C' },
        speed: { low: 0, high: m.params.speedNominal * 2, unit: '1/min' },
      },
    });
    productionOrders.push({
      id: `PO-${String(m.index + 1).padStart(4, '0')}`,
      assetId: m.id,
      material: `FG-${100 + (m.index % 7)}`,
      plannedQuantity: 100_000,
      unit: 'PC',
      idealCycleTimeS: m.params.idealCycleTime,
      status: 'in-progress',
      validFrom,
      changedAt,
    });
    // Every third machine has a maintenance order open: writes there are expected, elsewhere they are not.
    if (m.index % 3 === 0) {
      workOrders.push({ id: `WO-${String(m.index + 1).padStart(4, '0')}`, assetId: m.id, type: 'PM02', status: 'released', description: `Preventive maintenance ${m.machine}`, validFrom, changedAt });
    }
  }
  const sites = [...new Set(model.machines.map((m) => m.site))];
  return { assets: [...assets.values()], productionOrders, workOrders, sites };
}
