import alerts from './fixtures/sec.alerts.v1.json';
import assets from './fixtures/erp.assets.v1.json';
import productionOrders from './fixtures/erp.production-orders.v1.json';
import shifts from './fixtures/erp.shifts.v1.json';
import workOrders from './fixtures/erp.work-orders.v1.json';
import itEvents from './fixtures/it.security-events.v1.json';
import otEvents from './fixtures/ot.events.v1.json';
import enriched from './fixtures/ot.telemetry.enriched.v1.json';
import raw from './fixtures/ot.telemetry.raw.v1.json';

/** Example messages of one topic: valid ones, and invalid ones with the reason they are invalid. */
export interface TopicFixtures {
  valid: readonly unknown[];
  invalid: readonly { reason: string; message: unknown }[];
}

/** Shared example messages per topic name, for producer and consumer tests alike. */
export const fixtures: Readonly<Record<string, TopicFixtures>> = {
  'ot.telemetry.raw.v1': raw,
  'ot.telemetry.enriched.v1': enriched,
  'ot.events.v1': otEvents,
  'it.security-events.v1': itEvents,
  'erp.assets.v1': assets,
  'erp.work-orders.v1': workOrders,
  'erp.production-orders.v1': productionOrders,
  'erp.shifts.v1': shifts,
  'sec.alerts.v1': alerts,
};
