import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { ROOT, runScript, SERVICES } from './services';

// The Helm chart, linted and rendered by a real helm (built from Go modules by
// scripts/ensure-helm.sh, cached), and the rendered objects checked.

const CHART = join(ROOT, 'helm/weir');
const PRODUCTION = join(CHART, 'values-production.yaml');
// Built before the tests are collected: a cold build takes minutes, a cached one none.
const helm = runScript('scripts/ensure-helm.sh');

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string }; fieldRef?: { fieldPath: string } };
}
interface Probe {
  httpGet?: { path: string; port: string | number };
}
interface Container {
  name: string;
  image: string;
  command?: string[];
  env?: EnvVar[];
  ports?: { name: string; containerPort: number }[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: { readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean };
  volumeMounts?: { name: string; mountPath: string }[];
}
interface PodSpec {
  containers: Container[];
  securityContext?: { runAsNonRoot?: boolean };
  volumes?: { name: string; secret?: { secretName: string }; persistentVolumeClaim?: { claimName: string } }[];
}
interface PolicyPeer {
  namespaceSelector?: { matchLabels?: Record<string, string> };
  podSelector?: unknown;
  ipBlock?: { cidr: string };
}
interface PolicyRule {
  from?: PolicyPeer[];
  to?: PolicyPeer[];
  ports?: { port: number; protocol: string }[];
}

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(helm ?? 'helm', args, { encoding: 'utf8', cwd: ROOT, timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function render(...extra: string[]): K8sObject[] {
  const r = run(['template', 'weir', CHART, '--namespace', 'weir', ...extra]);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return parseAllDocuments(r.stdout)
    .map((d) => {
      expect(d.errors).toEqual([]);
      return d.toJS() as K8sObject | null;
    })
    .filter((o): o is K8sObject => o !== null);
}

const byKind = (objects: K8sObject[], kind: string) => objects.filter((o) => o.kind === kind);
const named = (objects: K8sObject[], kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name);
const podSpec = (o: K8sObject) => (o.spec as { template: { spec: PodSpec } }).template.spec;
const envOf = (c: Container, name: string) => c.env?.find((e) => e.name === name);
const SECRETISH = /PASSWORD|SECRET|TOKEN|DATABASE__URL|CREDENTIAL/i;

/** Checks that hold for every rendering: probes, resources, security, the hook, secrets by reference only. */
function checkCommon(objects: K8sObject[], enabled: readonly string[]): void {
  const deployments = byKind(objects, 'Deployment');
  expect(deployments.map((d) => d.metadata.labels?.['app.kubernetes.io/component']).sort()).toEqual([...enabled].sort());
  for (const d of deployments) {
    const pod = podSpec(d);
    expect(pod.securityContext?.runAsNonRoot, d.metadata.name).toBe(true);
    for (const c of pod.containers) {
      expect(c.ports?.find((p) => p.name === 'ops')?.containerPort, c.name).toBe(9464);
      expect(c.livenessProbe?.httpGet, c.name).toEqual({ path: '/health/live', port: 'ops' });
      expect(c.readinessProbe?.httpGet, c.name).toEqual({ path: '/health/ready', port: 'ops' });
      expect(c.startupProbe?.httpGet, c.name).toEqual({ path: '/health/live', port: 'ops' });
      expect(c.resources?.requests?.['cpu'], c.name).toBeDefined();
      expect(c.resources?.limits?.['memory'], c.name).toBeDefined();
      expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
      const svc = SERVICES.find((s) => s.name === c.name);
      expect(svc, c.name).toBeDefined();
      const opsHost = svc?.ops === 'observability' ? 'WEIR_OBSERVABILITY__OPS_HOST' : 'WEIR_OPS_HOST';
      expect(envOf(c, opsHost)?.value, c.name).toBe('0.0.0.0');
      for (const [key, value] of Object.entries(svc?.env ?? {})) expect(envOf(c, key)?.value, `${c.name} ${key}`).toBe(value);
      const names = (c.env ?? []).map((e) => e.name);
      expect(names.filter((n, i) => names.indexOf(n) !== i), `${c.name}: variables set twice`).toEqual([]);
      if (svc?.state) expect(c.volumeMounts?.find((m) => m.name === 'state')?.mountPath, c.name).toBe('/var/lib/weir');
      if (svc?.database) expect(envOf(c, 'WEIR_DATABASE__URL')?.valueFrom?.secretKeyRef, c.name).toBeDefined();
      else expect(envOf(c, 'WEIR_DATABASE__URL'), c.name).toBeUndefined();
      if (svc?.kafka) expect(envOf(c, 'WEIR_KAFKA__BROKERS')?.value, c.name).toBeTruthy();
      // No setting that carries a secret has a literal value.
      for (const e of c.env ?? []) if (SECRETISH.test(e.name)) expect({ name: e.name, value: e.value }, c.name).toEqual({ name: e.name, value: undefined });
    }
  }
  // The chart writes no Secret and no password into a ConfigMap.
  expect(byKind(objects, 'Secret')).toEqual([]);
  for (const cm of byKind(objects, 'ConfigMap')) expect(JSON.stringify(cm.data ?? {}), cm.metadata.name).not.toMatch(/password|secret/i);

  // The migration Job is a pre-install/pre-upgrade hook running the migrate command with the URL from the Secret.
  const job = named(objects, 'Job', 'weir-migrate');
  expect(job?.metadata.annotations).toMatchObject({ 'helm.sh/hook': 'pre-install,pre-upgrade', 'helm.sh/hook-delete-policy': 'before-hook-creation,hook-succeeded' });
  const migrate = job ? podSpec(job).containers[0] : undefined;
  expect(migrate?.command).toEqual(['node', 'libs/timescale/dist/cli/migrate.js', 'up']);
  expect(migrate?.image).toMatch(/\/timescale-sink:/);
  expect(migrate && envOf(migrate, 'WEIR_DATABASE__URL')?.valueFrom?.secretKeyRef?.name).toBeTruthy();

  // Horizontal scaling for the partitioned consumers, and only for them (the correlator's state is not partitioned).
  const hpas = byKind(objects, 'HorizontalPodAutoscaler');
  expect(hpas.map((h) => (h.spec as { scaleTargetRef: { name: string } }).scaleTargetRef.name).sort()).toEqual(['weir-enricher', 'weir-timescale-sink']);
  expect(named(objects, 'Deployment', 'weir-correlator')?.spec?.['replicas']).toBe(1);
  for (const h of hpas) expect(named(objects, 'Deployment', (h.spec as { scaleTargetRef: { name: string } }).scaleTargetRef.name)?.spec?.['replicas'], h.metadata.name).toBeUndefined();

  // One-way rule: OT-side connectors accept only the ops port from the monitoring namespace,
  // and reach only DNS, Kafka and their OT endpoints.
  for (const name of ['opcua-connector', 'historian-connector']) {
    const policy = named(objects, 'NetworkPolicy', `weir-${name}`);
    expect(policy, name).toBeDefined();
    const spec = policy?.spec as { policyTypes: string[]; ingress: PolicyRule[]; egress: PolicyRule[] };
    expect(spec.policyTypes.sort()).toEqual(['Egress', 'Ingress']);
    expect(spec.ingress).toHaveLength(1);
    expect(spec.ingress[0]?.ports).toEqual([{ port: 9464, protocol: 'TCP' }]);
    expect(spec.ingress[0]?.from?.length).toBe(1);
    expect(spec.ingress[0]?.from?.[0]?.namespaceSelector?.matchLabels).toEqual({ 'kubernetes.io/metadata.name': 'monitoring' });
    expect(spec.ingress[0]?.from?.[0]?.ipBlock).toBeUndefined();
    // every egress rule names its peers: no "anywhere" rule
    for (const rule of spec.egress) expect(rule.to?.length, `${name} egress ${JSON.stringify(rule)}`).toBeGreaterThan(0);
    const egressPorts = spec.egress.flatMap((r) => (r.ports ?? []).map((p) => p.port));
    expect(egressPorts).toContain(53);
    expect(egressPorts).not.toContain(5432);
    // the pod exposes no port but ops
    const deployment = named(objects, 'Deployment', `weir-${name}`);
    expect(deployment && podSpec(deployment).containers[0]?.ports?.map((p) => p.name)).toEqual(['ops']);
  }
  // Every enabled service has a policy that sets both directions.
  for (const name of enabled) expect((named(objects, 'NetworkPolicy', `weir-${name}`)?.spec as { policyTypes: string[] } | undefined)?.policyTypes.sort(), name).toEqual(['Egress', 'Ingress']);
}

describe.skipIf(!helm)('Helm chart helm/weir', () => {
  const enabledByDefault = SERVICES.filter((s) => s.side !== 'lab').map((s) => s.name);

  it('passes helm lint with the default values and with values-production.yaml', () => {
    for (const args of [['lint', '--strict', CHART], ['lint', '--strict', CHART, '-f', PRODUCTION]]) {
      const r = run(args);
      expect(r.stdout + r.stderr, args.join(' ')).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
      expect(r.status, r.stdout + r.stderr).toBe(0);
    }
  });

  it('renders the default values: a deployment per service, probes, hook, HPAs, one-way policies, secrets by reference', () => {
    const objects = render();
    checkCommon(objects, enabledByDefault);
    const enricher = named(objects, 'Deployment', 'weir-enricher');
    const c = enricher ? podSpec(enricher).containers[0] : undefined;
    expect(c?.image).toBe('weir/enricher:0.1.0');
    expect(c && envOf(c, 'WEIR_ENRICHER__INSTANCE_ID')?.valueFrom?.fieldRef?.fieldPath).toBe('metadata.name');
    expect(c && envOf(c, 'WEIR_KAFKA__BROKERS')?.value).toBe('kafka-bootstrap.kafka.svc:9092');
    expect(c && envOf(c, 'WEIR_KAFKA__SASL__PASSWORD')).toBeUndefined();
    const sink = named(objects, 'Deployment', 'weir-timescale-sink');
    const s = sink ? podSpec(sink).containers[0] : undefined;
    expect(s && envOf(s, 'WEIR_DATABASE__URL')?.valueFrom?.secretKeyRef).toEqual({ name: 'weir-database', key: 'url' });
    expect(s && envOf(s, 'WEIR_SINK__MIGRATE')?.value).toBe('false');
  });

  it('renders values-production.yaml: registry images, Kafka TLS + SASL from Secrets, database CA, persistent spools', () => {
    const objects = render('-f', PRODUCTION);
    checkCommon(objects, enabledByDefault);
    const connector = named(objects, 'Deployment', 'weir-opcua-connector');
    const pod = connector ? podSpec(connector) : undefined;
    const c = pod?.containers[0];
    expect(c?.image).toBe('registry.example.com/plant/weir/opcua-connector:0.1.0');
    expect(c && envOf(c, 'WEIR_KAFKA__SASL__PASSWORD')?.valueFrom?.secretKeyRef).toEqual({ name: 'weir-kafka-sasl', key: 'password' });
    expect(c && envOf(c, 'WEIR_KAFKA__SASL__USERNAME')?.valueFrom?.secretKeyRef).toEqual({ name: 'weir-kafka-sasl', key: 'username' });
    expect(c && envOf(c, 'WEIR_KAFKA__SSL__CA')?.value).toBe('/etc/weir/kafka-ca/ca.crt');
    expect(c && envOf(c, 'WEIR_KAFKA__TOPIC_PREFIX')?.value).toBe('plant1.');
    expect(c && envOf(c, 'WEIR_CONFIG_FILE')?.value).toBe('/etc/weir/config/config.yaml');
    expect(pod?.volumes?.find((v) => v.name === 'kafka-ca')?.secret?.secretName).toBe('weir-kafka-ca');
    expect(pod?.volumes?.find((v) => v.name === 'state')?.persistentVolumeClaim?.claimName).toBe('weir-opcua-connector-state');
    const correlator = named(objects, 'Deployment', 'weir-correlator');
    expect(correlator && podSpec(correlator).volumes?.find((v) => v.name === 'state')?.persistentVolumeClaim?.claimName).toBe('weir-correlator-state');
    expect(correlator?.spec?.['replicas']).toBe(1);
    const policy = named(objects, 'NetworkPolicy', 'weir-opcua-connector')?.spec as { egress: PolicyRule[] };
    expect(policy.egress.some((r) => r.to?.some((p) => p.ipBlock?.cidr === '10.20.30.0/24') && r.ports?.some((p) => p.port === 4840))).toBe(true);
    const sink = named(objects, 'Deployment', 'weir-timescale-sink');
    const s = sink ? podSpec(sink).containers[0] : undefined;
    expect(s && envOf(s, 'WEIR_DATABASE__SSL')?.value).toBe('/etc/weir/database-ca/ca.crt');
    const erp = named(objects, 'Deployment', 'weir-erp-sync');
    const e = erp ? podSpec(erp).containers[0] : undefined;
    expect(e && envOf(e, 'WEIR_SAP__AUTH__PASSWORD')?.valueFrom?.secretKeyRef).toEqual({ name: 'weir-sap', key: 'password' });
    const hpa = named(objects, 'HorizontalPodAutoscaler', 'weir-enricher')?.spec;
    expect(hpa).toMatchObject({ minReplicas: 3, maxReplicas: 12 });
  });

  it('renders the demo plant simulator on request, reachable over OPC UA only from the OT-side connectors', () => {
    const objects = render('--set', 'services.plant-simulator.enabled=true');
    checkCommon(objects, [...enabledByDefault, 'plant-simulator']);
    const spec = named(objects, 'NetworkPolicy', 'weir-plant-simulator')?.spec as { ingress: PolicyRule[] };
    const opcua = spec.ingress.find((r) => r.ports?.some((p) => p.port === 4840));
    expect(JSON.stringify(opcua?.from)).toContain('opcua-connector');
  });

  it('refuses SASL without a Secret to take the credentials from', () => {
    const r = run(['template', 'weir', CHART, '--set', 'kafka.sasl.enabled=true']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('kafka.sasl.existingSecret is required');
  });
});
