import { z } from 'zod';
import { telemetryRawV1Schema, seriesKey } from './telemetry-raw.v1';
import { defineTopic } from './topic';

/** ERP and engineering context valid at the sample's source time; every part may be absent. */
export const telemetryContextV1Schema = z.object({
  /** The asset the series belongs to. */
  asset: z
    .object({
      id: z.string(),
      /** ISA-95 path, `enterprise/site/area/line/machine`. */
      path: z.string(),
      name: z.string().optional(),
      level: z.string().optional(),
    })
    .nullable(),
  /** Production order running on the asset's line at the sample time. */
  productionOrder: z
    .object({
      id: z.string(),
      material: z.string().optional(),
      /** Ideal cycle time of one unit, in seconds. */
      idealCycleTimeS: z.number().nonnegative().optional(),
    })
    .nullable(),
  /** Maintenance work order open on the asset at the sample time. */
  workOrder: z.object({ id: z.string(), type: z.string().optional(), status: z.string().optional() }).nullable(),
  /** Shift at the asset's site at the sample time. */
  shift: z.object({ id: z.string(), name: z.string().optional() }).nullable(),
  /** Cost centre of the asset. */
  costCentre: z.string().nullable(),
  /** Engineering unit (UNECE code or symbol). */
  unit: z.string().nullable(),
  /** Safe operating limits from engineering data, in `unit`. */
  limits: z.object({ low: z.number().optional(), high: z.number().optional() }).nullable(),
});
/** Context attached to an enriched sample. */
export type TelemetryContextV1 = z.infer<typeof telemetryContextV1Schema>;

/** A raw sample with the context valid at its source time. */
export const telemetryEnrichedV1Schema = telemetryRawV1Schema.extend({
  context: telemetryContextV1Schema,
});
/** One enriched sample. */
export type TelemetryEnrichedV1 = z.infer<typeof telemetryEnrichedV1Schema>;

/** Samples with asset, order, work order, shift, cost centre, unit and limits. */
export const telemetryEnrichedV1 = defineTopic({
  name: 'ot.telemetry.enriched.v1',
  description: 'Raw samples joined with the ERP and engineering context valid at their source time',
  schema: telemetryEnrichedV1Schema,
  key: seriesKey,
});
