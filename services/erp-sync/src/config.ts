import { isa95Level } from '@weir/contracts';
import { fields } from '@weir/config';
import { kafkaSettingsSchema } from '@weir/kafka';
import { observabilitySettingsSchema } from '@weir/observability';
import { z } from 'zod';
import { WEEKDAYS } from './shifts/shift-calendar';
import { isValidTimeZone } from './shifts/time-zone';

const timeZone = z.string().min(1).refine(isValidTimeZone, 'must be an IANA time zone such as Europe/Berlin or UTC');
const clock = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM (00:00-23:59)');

/** One SAP entity set: on or off, where it lives, and an optional extra filter. */
const entitySet = (service: string, entitySetName: string) => ({
  /** Read this entity set. */
  enabled: fields.bool().default(true),
  /** OData service name. */
  service: z.string().min(1).default(service),
  /** Entity set within the service. */
  entitySet: z.string().min(1).default(entitySetName),
  /** An OData `$filter` ANDed with the delta condition, to limit the read to some plants (`MaintenancePlanningPlant eq '1710'`). */
  filter: z.string().min(1).optional(),
});

const sapAuthSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('none') }),
  z.object({
    type: z.literal('basic'),
    /** Technical (communication) user. */
    username: z.string().min(1),
    /** Its password; redacted in logs. */
    password: z.string().min(1),
  }),
  z.object({
    type: z.literal('oauth2'),
    /** Token endpoint of the client-credentials grant. */
    tokenUrl: fields.url(['https', 'http']),
    clientId: z.string().min(1),
    /** Redacted in logs. */
    clientSecret: z.string().min(1),
    /** Space-separated scopes, if the authorisation server wants them. */
    scope: z.string().min(1).optional(),
    /** Client id and secret in a basic Authorization header (`basic`, RFC 6749) or in the form body (`body`). */
    clientAuthentication: z.enum(['basic', 'body']).default('basic'),
  }),
]);

/** The SAP S/4HANA OData adapter. */
export const sapSettingsSchema = z.object({
  /** Scheme, host and port of the SAP system (`https://s4.example.com:44300`); also the host `__next` links are rebased onto. */
  baseUrl: fields.url(['https', 'http']),
  /** Path of the OData v2 services. */
  servicePath: z.string().default('/sap/opu/odata/sap'),
  /** SAP client (Mandant), three digits; the system's default when absent. */
  sapClient: z.string().regex(/^\d{3}$/, 'must be three digits').optional(),
  /** `basic` (user, password), `oauth2` (client credentials) or `none`. */
  auth: sapAuthSchema,
  /** How often each entity set is asked for changes. */
  pollInterval: fields.durationMs().default(300_000),
  /** How often a full read reconciles the key set, so records deleted in SAP (which the delta cannot show) are tombstoned. */
  reconcileInterval: fields.durationMs().default(86_400_000),
  /** How far before the checkpoint a delta reaches back, for changes committed late with an earlier time stamp. */
  deltaOverlap: fields.durationMs().default(60_000),
  /** Time one HTTP request may take. */
  timeout: fields.durationMs().default(60_000),
  /** Page size for client-driven paging (`$top`/`$skip`); absent: the service pages itself (`__next`, `$skiptoken`). */
  pageSize: fields.int({ min: 1, max: 100_000 }).optional(),
  retry: z
    .object({
      /** Attempts per request, the first included, on 5xx, 408, 429 and network errors. */
      maxAttempts: fields.int({ min: 1, max: 100 }).default(5),
      /** First backoff delay; doubles per attempt (±20 %). Retry-After wins when longer. */
      initialDelay: fields.durationMs().default(1000),
      /** Cap of the computed delay. */
      maxDelay: fields.durationMs().default(60_000),
    })
    .prefault({}),
  /** Zone of SAP's local date/time fields (DATS/TIMS), unless the plant has its own. */
  timeZone: timeZone.default('UTC'),
  /** Zone per plant (`WEIR_SAP__TIME_ZONE_BY_PLANT__1710=America/Los_Angeles`). */
  timeZoneByPlant: z.record(z.string(), timeZone).default({}),
  /** Asset id per plant, for orders that name no technical object or work center. */
  assetByPlant: z.record(z.string(), z.string().min(1)).default({}),
  functionalLocations: z
    .object({
      ...entitySet('API_FUNCTIONALLOCATION', 'FunctionalLocation'),
      /** Prefix of asset ids made from functional locations, should they collide with equipment numbers. */
      idPrefix: z.string().default(''),
      /** ISA-95 level by depth in the functional location tree: the first for top locations, the last for anything deeper. */
      levelByDepth: fields.list(isa95Level).refine((l) => l.length > 0, 'at least one level').default(['site', 'area', 'line', 'cell']),
      /** ISA-95 level by FunctionalLocationCategory, winning over the depth. */
      levelByCategory: z.record(z.string(), isa95Level).default({}),
    })
    .prefault({}),
  equipment: z
    .object({
      ...entitySet('API_EQUIPMENT', 'Equipment'),
      idPrefix: z.string().default(''),
      /** ISA-95 level by TechnicalObjectType (checked first). */
      levelByTechnicalObjectType: z.record(z.string(), isa95Level).default({}),
      /** ISA-95 level by EquipmentCategory; default: `machine` under a location, `equipment` under another equipment. */
      levelByCategory: z.record(z.string(), isa95Level).default({}),
    })
    .prefault({}),
  maintenanceOrders: z.object(entitySet('API_MAINTENANCEORDER', 'MaintenanceOrder')).prefault({}),
  productionOrders: z
    .object({
      ...entitySet('API_PRODUCTION_ORDER_2_SRV', 'A_ProductionOrder_2'),
      /** Read the operations (`$expand=to_ProductionOrderOperation`) so the order's asset is the work center of its first operation. */
      expandOperations: fields.bool().default(true),
      /** Asset id per work center (`PACK-L1` -> `line1`); the work center id itself when absent. */
      assetByWorkCenter: z.record(z.string(), z.string().min(1)).default({}),
      /** Ideal cycle time in seconds per material, or per `material@assetId`. */
      idealCycleTimes: z.record(z.string(), z.coerce.number().positive()).default({}),
      /** A field of the order holding the ideal cycle time in seconds (an extension field), used when present. */
      idealCycleTimeField: z.string().min(1).optional(),
    })
    .prefault({}),
});

/** A folder polled for CSV/JSON drops. */
export const filesSettingsSchema = z.object({
  /** The drop folder; `done/` and `failed/` are made inside. */
  dir: z.string().min(1),
  /** How often it is looked at. */
  pollInterval: fields.durationMs().default(30_000),
  /** Files modified more recently than this are still being written and wait. */
  settle: fields.durationMs().default(2000),
  /** Zone of times written without an offset. */
  timeZone: timeZone.default('UTC'),
});

const shiftRuleSchema = z.object({
  name: z.string().regex(/^[A-Za-z0-9_]+$/, 'letters, digits and _ only (part of the shift id)'),
  start: clock,
  end: clock,
  breakMinutes: z.coerce.number().nonnegative().default(0),
  days: fields.list(z.enum(WEEKDAYS)).default([...WEEKDAYS]),
});

/** The shift calendar. */
export const shiftsSettingsSchema = z.object({
  /** How often the rolling window is expanded again (new days come in, changed rules take effect). */
  refreshInterval: fields.durationMs().default(3_600_000),
  /** Past end of the rolling window. */
  past: fields.durationMs().default(7 * 86_400_000),
  /** Future end of the rolling window. */
  future: fields.durationMs().default(14 * 86_400_000),
  sites: z
    .array(
      z.object({
        siteId: z.string().min(1),
        timeZone,
        shifts: z.array(shiftRuleSchema).min(1),
      }),
    )
    .min(1),
});

/**
 * Settings of erp-sync. Environment variables map with `WEIR_` and `__`
 * between levels: `WEIR_SAP__BASE_URL`, `WEIR_SAP__AUTH__TYPE=basic`,
 * `WEIR_SAP__AUTH__PASSWORD`, `WEIR_KAFKA__BROKERS`; the shift calendar is
 * easier in the YAML file named by `WEIR_CONFIG_FILE`.
 */
export const erpSyncSettingsSchema = z
  .object({
    ...observabilitySettingsSchema.shape,
    kafka: kafkaSettingsSchema,
    /** Folder of the state file (checkpoints, published ids, the asset tree); must survive restarts. */
    stateDir: z.string().min(1),
    /** First segment of every asset path (the ISA-95 enterprise, e.g. `acme`). */
    enterprise: z.string().regex(/^[^/]+$/, 'no slashes').optional(),
    /** Readiness fails when a feed's last successful poll is older than this many intervals. */
    staleAfterIntervals: fields.int({ min: 1, max: 1000 }).default(3),
    sap: sapSettingsSchema.optional(),
    files: filesSettingsSchema.optional(),
    shifts: shiftsSettingsSchema.optional(),
  })
  .refine((s) => s.sap !== undefined || s.files !== undefined || s.shifts !== undefined, { message: 'configure at least one of sap, files and shifts', path: ['sap'] });

/** erp-sync's settings as parsed. */
export type ErpSyncSettings = z.infer<typeof erpSyncSettingsSchema>;
/** erp-sync's settings as written (defaults may be left out). */
export type ErpSyncSettingsInput = z.input<typeof erpSyncSettingsSchema>;
