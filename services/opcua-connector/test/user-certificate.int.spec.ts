import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { prepareClientIdentity, type PlantSimulator } from '@weir/plant-simulator';
import { removeTempDirs, tempDir, uniqueTopicPrefix, waitFor } from '@weir/testing';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { collect, settingsFor, startInProcess, startSim, type Collected, type InProcessConnector } from './helpers';

const M1 = 'Site01.Area01.Line01.Machine01';

/** A user's own X.509 identity (certificate + private key files), as an operator would be issued one. */
async function userIdentity(name: string): Promise<{ certificateFile: string; privateKeyFile: string; thumbprint: string; certificate: Buffer }> {
  const id = await prepareClientIdentity({ pkiDir: join(tempDir(`user-${name}`), 'pki'), applicationUri: `urn:weir:test:user:${name}`, applicationName: name });
  await id.certificateManager.dispose();
  return { certificateFile: id.certificateFile, privateKeyFile: id.privateKeyFile, certificate: id.certificate, thumbprint: createHash('sha1').update(id.certificate).digest('hex') };
}

describe('opcua-connector: login with a user certificate', () => {
  const brokers = inject('kafkaBrokers');
  let sim: PlantSimulator;
  let running: InProcessConnector | undefined;
  let reader: Collected | undefined;

  beforeAll(async () => {
    sim = await startSim({ plant: { linesPerArea: 1, machinesPerLine: 1 }, alarms: { enabled: false } });
  });

  afterEach(async () => {
    await running?.connector.stop();
    running = undefined;
    await reader?.stop();
    reader = undefined;
  });

  afterAll(async () => {
    await sim?.stop();
    removeTempDirs();
  });

  const source = (auth: { certificateFile: string; privateKeyFile: string }) => ({
    id: 'plant-x509',
    endpointUrl: sim.endpointUrl,
    securityMode: 'SignAndEncrypt',
    securityPolicy: 'Basic256Sha256',
    auth: { type: 'certificate', certificateFile: auth.certificateFile, privateKeyFile: auth.privateKeyFile },
    nodes: [sim.nodeId(`${M1}.Temperature`)],
    events: [],
  });

  it('opens the session as the certificate user the server trusts, and streams', async () => {
    const operator = await userIdentity('operator-x509');
    await sim.trustUserCertificate(operator.certificate);
    const dir = tempDir('x509');
    const prefix = uniqueTopicPrefix('x509');
    running = await startInProcess(settingsFor({ brokers, prefix, stateDir: dir, sim, sources: [source(operator)] }));
    reader = await collect(brokers, prefix);
    await waitFor(() => (reader!.samples.length >= 2 ? true : undefined), { timeoutMs: 30_000, what: 'samples over the certificate-login session' });
    // The server saw the user by the certificate's thumbprint, over the encrypted channel.
    const session = sim.auditLog({ type: 'AuditActivateSessionEventType' }).find((e) => e.actor.tokenType === 'certificate' && e.status);
    expect(session?.actor).toMatchObject({ user: `x509:${operator.thumbprint}`, securityMode: 'SignAndEncrypt' });
    expect((await running.health.report('readiness')).checks['opcua:plant-x509']).toEqual({ ok: true, detail: '1 items monitored' });
  });

  it('a user certificate the server does not trust is refused, and the connector says so', async () => {
    const stranger = await userIdentity('stranger-x509');
    const dir = tempDir('x509-refused');
    running = await startInProcess(settingsFor({ brokers, prefix: uniqueTopicPrefix('x509r'), stateDir: dir, sim, sources: [source(stranger)] }));
    const check = await waitFor(
      async () => {
        const c = (await running!.health.report('readiness')).checks['opcua:plant-x509'];
        return c && !c.ok && /certificate login/.test(c.detail ?? '') ? c : undefined;
      },
      { timeoutMs: 30_000, what: 'the refused login in the readiness check' },
    );
    expect(check.detail).toMatch(/refused the session \(certificate login\)/);
    expect(sim.auditLog({ type: 'AuditActivateSessionEventType' }).some((e) => e.status && e.actor.user === `x509:${stranger.thumbprint}`)).toBe(false);
  });
});
