import { erpWorkOrdersV1, itSecurityEventsV1, otEventsV1, securityAlertsV1, telemetryEnrichedV1, topicName, type AlertV1, type ErpWorkOrderV1, type ItSecurityEventV1, type OtEventV1, type TelemetryEnrichedV1 } from '@weir/contracts';
import { BatchingProducer, createKafkaClient, ensureTopics, kafkaSettingsSchema, provisioningOptions } from '@weir/kafka';
import { createLogger, type Logger } from '@weir/observability';
import type { Kafka } from 'kafkajs';
import { correlatorSettingsSchema, type CorrelatorSettings } from '../src/config';
import { CorrelatorApplication } from '../src/correlator.application';

/** Test log level: quiet unless WEIR_TEST_LOG_LEVEL says otherwise. */
export function testLogger(service = 'correlator-int-test'): Logger {
  return createLogger({ service, level: process.env['WEIR_TEST_LOG_LEVEL'] ?? 'error' });
}

/** The scenario's OT naming: `ns=3;s=Line1.<Machine>.<Tag>` belongs to asset `<machine>` lower-cased. */
export const ASSET_MAPPING = [{ kind: 'pattern', name: 'machines', target: 'nodeId', regex: '^ns=3;s=(\\w+)\\.(\\w+)\\.', assetId: '${2:lower}', assetPath: 'acme/hh/${1:lower}/${2:lower}' }];

/** Settings of an in-process correlator on the test broker. */
export function testSettings(brokers: string[], prefix: string, stateDir: string, correlator: Record<string, unknown> = {}): CorrelatorSettings {
  return correlatorSettingsSchema.parse({
    kafka: { brokers, clientId: 'correlator-int-test', topicPrefix: prefix, partitions: 2, replicationFactor: 1 },
    observability: { logLevel: process.env['WEIR_TEST_LOG_LEVEL'] ?? 'error', opsPort: 0 },
    correlator: { groupId: `${prefix}correlator`, stateDir, assetMapping: ASSET_MAPPING, sessionTimeoutMs: 6000, heartbeatIntervalMs: 1000, watchRules: false, ...correlator },
  });
}

/** Starts a correlator in this process. */
export async function startCorrelator(settings: CorrelatorSettings): Promise<CorrelatorApplication> {
  const app = new CorrelatorApplication(settings, { logger: testLogger(), opsServer: false });
  await app.start();
  return app;
}

/** A Kafka client and an input producer on the test broker and prefix, with the topics created. */
export async function testKafka(brokers: string[], prefix: string): Promise<{ kafka: Kafka; producer: BatchingProducer }> {
  const logger = testLogger('correlator-int-input');
  const kafka = createKafkaClient(kafkaSettingsSchema.parse({ brokers, clientId: 'correlator-int-input' }), logger);
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, [erpWorkOrdersV1, itSecurityEventsV1, otEventsV1, telemetryEnrichedV1, securityAlertsV1], provisioningOptions(kafkaSettingsSchema.parse({ brokers, topicPrefix: prefix, partitions: 2, replicationFactor: 1 })));
  } finally {
    await admin.disconnect();
  }
  return { kafka, producer: new BatchingProducer(kafka, { logger, topicPrefix: prefix }) };
}

/** Every alert on sec.alerts.v1 up to its current end. */
export async function readAlerts(kafka: Kafka, prefix: string): Promise<AlertV1[]> {
  const topic = topicName(securityAlertsV1, prefix);
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const want = new Map(ends.map((e) => [e.partition, BigInt(e.high)]));
  const out: AlertV1[] = [];
  if ([...want.values()].every((v) => v === 0n)) return out;
  const consumer = kafka.consumer({ groupId: `${prefix}reader-${Math.random().toString(36).slice(2)}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const seen = new Map<number, bigint>();
  await new Promise<void>((resolve, reject) => {
    consumer
      .run({
        eachMessage: async ({ partition, message }) => {
          if (message.value) out.push(JSON.parse(message.value.toString()) as AlertV1);
          seen.set(partition, BigInt(message.offset) + 1n);
          if ([...want].every(([p, high]) => (seen.get(p) ?? 0n) >= high)) resolve();
          await Promise.resolve();
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  return out;
}

const T = (iso: string): string => new Date(iso).toISOString();

/** An OCSF Authentication event. */
export function logon(uid: string, time: string, user: string, opts: { mfa: boolean; remote: boolean; ip?: string; vpnIp?: string; success?: boolean }): ItSecurityEventV1 {
  return {
    uid,
    class_uid: 3002,
    category_uid: 3,
    activity_id: 1,
    time: T(time),
    severity_id: 1,
    status_id: opts.success === false ? 2 : 1,
    user: { name: user },
    src_endpoint: { ip: opts.ip ?? '203.0.113.10', ...(opts.vpnIp ? { intermediate_ips: [opts.vpnIp] } : {}) },
    is_mfa: opts.mfa,
    is_remote: opts.remote,
    metadata: { product: { name: 'GlobalProtect', vendor_name: 'Palo Alto Networks' }, version: '1.3.0' },
  };
}

/** An OCSF Detection Finding from an EDR. */
export function edrFinding(uid: string, time: string, message: string, severity: number): ItSecurityEventV1 {
  return { uid, class_uid: 2004, category_uid: 2, activity_id: 1, time: T(time), severity_id: severity, message, src_endpoint: { hostname: 'ENG-WS-03', ip: '10.10.5.3' }, metadata: { product: { name: 'Defender for Endpoint', vendor_name: 'Microsoft' }, version: '1.3.0' } };
}

let eventSeq = 0;
/** An OPC UA audit or connector event. */
export function otEvent(time: string, kind: OtEventV1['kind'], type: string, extra: Partial<OtEventV1> = {}): OtEventV1 {
  eventSeq++;
  return { eventId: `ev${eventSeq.toString(16).padStart(8, '0')}`, sourceId: 'plant-hh', kind, type, time: T(time), severity: 500, message: type, attributes: {}, ...extra };
}

/** An OPC UA session created from a client address. */
export const session = (time: string, client: string, user = 'operator1'): OtEventV1 => otEvent(time, 'audit', 'AuditCreateSessionEventType', { actor: { user, clientAddress: client } });
/** An OPC UA audit write to a node. */
export const write = (time: string, node: string, client: string, user: string, oldValue: number, newValue: number): OtEventV1 =>
  otEvent(time, 'audit', 'AuditWriteUpdateEventType', { nodeId: `ns=3;s=Line1.${node}`, actor: { user, clientAddress: client }, attributes: { oldValue, newValue } });
/** An OPC UA audit method call. */
export const call = (time: string, node: string, method: string, client: string, user: string): OtEventV1 =>
  otEvent(time, 'audit', 'AuditUpdateMethodEventType', { nodeId: `ns=3;s=Line1.${node}`, actor: { user, clientAddress: client }, attributes: { methodName: method } });

let sampleSeq = 0;
/** An enriched temperature sample of filler1 (safe limits 2..8 °C). */
export function temperature(time: string, value: number, workOrder: string | null): TelemetryEnrichedV1 {
  sampleSeq++;
  return {
    sourceId: 'plant-hh',
    nodeId: 'ns=3;s=Line1.Filler1.Temperature',
    seq: sampleSeq,
    origin: 'opcua',
    value,
    status: 0,
    sourceTime: T(time),
    context: { asset: { id: 'filler1', path: 'acme/hh/line1/filler1' }, productionOrder: null, workOrder: workOrder ? { id: workOrder } : null, shift: null, costCentre: null, unit: 'CEL', limits: { low: 2, high: 8 } },
  };
}

/** A maintenance work order on an asset. */
export function workOrder(id: string, assetId: string, from: string, to: string): ErpWorkOrderV1 {
  return { id, assetId, type: 'PM01', status: 'in-progress', validFrom: T(from), validTo: T(to), changedAt: T(from), attributes: {} };
}
