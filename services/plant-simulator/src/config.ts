import { fields } from '@weir/config';
import { observabilitySettingsSchema } from '@weir/observability';
import { z } from 'zod';
import { loadScenarioFile } from './scenario/scenario';
import { SECURITY_MODES, SECURITY_POLICIES } from './scenario/opcua-client';
import type { PlantSimulatorOptions } from './simulator';

const optionalLimit = () => fields.int({ min: 0, max: 10_000_000 }).optional();

/**
 * Settings of the plant simulator service. Environment variables map with
 * `WEIR_` and `__` between levels: `WEIR_OPCUA__PORT=4841`,
 * `WEIR_PLANT__MACHINES_PER_LINE=10`, `WEIR_SECURITY__CREDENTIALS__OPERATOR=secret`.
 */
export const plantSimulatorSettingsSchema = z.object({
  ...observabilitySettingsSchema.shape,
  opcua: z
    .object({
      /** TCP port of the OPC UA server. */
      port: fields.port().default(4840),
      /** Address to listen on; 0.0.0.0 in a container. Loopback by default. */
      host: z.string().min(1).default('127.0.0.1'),
      /** Host name advertised in endpoint URLs and put in the certificate; defaults to host (or the machine name for 0.0.0.0). */
      hostname: z.string().min(1).optional(),
      /** Path after host:port in the endpoint URL. */
      resourcePath: z.string().default(''),
      /** ApplicationUri of the server (also in its certificate). */
      applicationUri: z.string().min(1).default('urn:weir:plant-simulator'),
    })
    .prefault({}),
  plant: z
    .object({
      /** Browse name of the top object (ISA-95 enterprise) under Objects. */
      enterprise: z.string().regex(/^[A-Za-z][A-Za-z0-9_-]*$/).default('Plant'),
      sites: fields.int({ min: 1, max: 999 }).default(1),
      areasPerSite: fields.int({ min: 1, max: 999 }).default(1),
      linesPerArea: fields.int({ min: 1, max: 999 }).default(2),
      machinesPerLine: fields.int({ min: 1, max: 999 }).default(3),
      /** Generic process values per machine (Tag001...) on top of the 12 standard tags. */
      extraTagsPerMachine: fields.int({ min: 0, max: 9999 }).default(0),
      /** A temperature ExclusiveLimitAlarm per machine. */
      alarms: fields.bool().default(true),
      /** Alarms only on the first N machines (each alarm is ~60 nodes). */
      maxAlarmMachines: fields.int({ min: 0, max: 1_000_000 }).default(1000),
    })
    .prefault({}),
  model: z
    .object({
      /** Seed of the deterministic model: same seed, same plant, same history. */
      seed: z.string().min(1).default('weir'),
      /** Tick grid: values change only at multiples of it; its tenfold must divide a day. */
      tick: fields.durationMs().default(1000),
      /** Start of the model (a UTC midnight): counters count from it, history starts there. */
      epoch: z.iso.datetime({ offset: true }).default('2020-01-01T00:00:00Z'),
    })
    .prefault({}),
  security: z
    .object({
      policies: fields.list(z.enum(SECURITY_POLICIES)).default(['None', 'Basic256Sha256', 'Aes128_Sha256_RsaOaep']),
      modes: fields.list(z.enum(SECURITY_MODES)).default(['None', 'Sign', 'SignAndEncrypt']),
      allowAnonymous: fields.bool().default(true),
      /** Anonymous sessions may write setpoints and Mode. */
      anonymousCanWrite: fields.bool().default(false),
      /** Users for username/password login: user name -> password (env: WEIR_SECURITY__CREDENTIALS__<USER>=<password>; names are lower-cased from env). */
      credentials: z.record(z.string(), z.string().min(1)).default({}),
      /** PKI folder of the server (own certificate created on first start); default <stateDir>/pki. */
      pkiDir: z.string().min(1).optional(),
      /** Trust every client certificate. Keep false outside tests. */
      autoAcceptUnknownCertificates: fields.bool().default(false),
      /** Client certificate files (PEM or DER) to trust at start. */
      trustedCertificates: fields.list(z.string().min(1)).default([]),
      /** Pick up certificates dropped into the PKI folder while running. */
      watchPkiFolder: fields.bool().default(true),
    })
    .prefault({}),
  limits: z
    .object({
      maxNodesPerRead: optionalLimit(),
      maxNodesPerWrite: optionalLimit(),
      maxNodesPerBrowse: optionalLimit(),
      maxNodesPerMethodCall: optionalLimit(),
      maxNodesPerRegisterNodes: optionalLimit(),
      maxNodesPerTranslateBrowsePathsToNodeIds: optionalLimit(),
      maxMonitoredItemsPerCall: optionalLimit(),
      maxNodesPerHistoryReadData: optionalLimit(),
      maxNodesPerHistoryReadEvents: optionalLimit(),
      maxSessions: optionalLimit(),
      maxSubscriptions: optionalLimit(),
      maxSubscriptionsPerSession: optionalLimit(),
      maxMonitoredItems: optionalLimit(),
      maxMonitoredItemsPerSubscription: optionalLimit(),
      maxBrowseContinuationPoints: optionalLimit(),
      maxConnectionsPerEndpoint: optionalLimit(),
      maxHistoryValuesPerNode: fields.int({ min: 1, max: 1_000_000 }).optional(),
      maxHistoryStepsPerNode: fields.int({ min: 1000, max: 100_000_000 }).optional(),
    })
    .prefault({}),
  /** Folder for the PKI and the scenario clients' certificates; default <os tmp>/weir-plant-simulator. */
  stateDir: z.string().min(1).optional(),
  /** A YAML or JSON scenario file (steps timed from the first tick after start). */
  scenarioFile: z.string().min(1).optional(),
  /** Audit log entries kept in memory. */
  auditLogSize: fields.int({ min: 100, max: 10_000_000 }).default(10_000),
});

/** The simulator service's settings. */
export type PlantSimulatorSettings = z.infer<typeof plantSimulatorSettingsSchema>;

/** Turns validated settings into `startPlantSimulator` options (reads the scenario file, if any). */
export function simulatorOptionsFromSettings(s: PlantSimulatorSettings): PlantSimulatorOptions {
  const limits = Object.fromEntries(Object.entries(s.limits).filter(([, v]) => v !== undefined));
  return {
    port: s.opcua.port,
    host: s.opcua.host,
    ...(s.opcua.hostname ? { hostname: s.opcua.hostname } : {}),
    resourcePath: s.opcua.resourcePath,
    applicationUri: s.opcua.applicationUri,
    seed: s.model.seed,
    tickMs: s.model.tick,
    epoch: s.model.epoch,
    plant: { enterprise: s.plant.enterprise, sites: s.plant.sites, areasPerSite: s.plant.areasPerSite, linesPerArea: s.plant.linesPerArea, machinesPerLine: s.plant.machinesPerLine, extraTagsPerMachine: s.plant.extraTagsPerMachine },
    alarms: { enabled: s.plant.alarms, maxMachines: s.plant.maxAlarmMachines },
    security: {
      policies: s.security.policies,
      modes: s.security.modes,
      allowAnonymous: s.security.allowAnonymous,
      anonymousCanWrite: s.security.anonymousCanWrite,
      users: Object.entries(s.security.credentials).map(([username, password]) => ({ username, password })),
      ...(s.security.pkiDir ? { pkiDir: s.security.pkiDir } : {}),
      autoAcceptUnknownCertificates: s.security.autoAcceptUnknownCertificates,
      trustedCertificates: s.security.trustedCertificates,
      watchPkiFolder: s.security.watchPkiFolder,
    },
    ...(s.stateDir ? { stateDir: s.stateDir } : {}),
    limits,
    ...(s.scenarioFile ? { scenario: loadScenarioFile(s.scenarioFile) } : {}),
    auditLogSize: s.auditLogSize,
  };
}
