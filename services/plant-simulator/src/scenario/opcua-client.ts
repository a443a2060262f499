import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { MessageSecurityMode, OPCUACertificateManager, OPCUAClient, SecurityPolicy, UserTokenType, type ClientSession, type UserIdentityInfo } from 'node-opcua';

/** Security policy names accepted in settings and scenario steps. */
export const SECURITY_POLICIES = ['None', 'Basic256Sha256', 'Aes128_Sha256_RsaOaep', 'Aes256_Sha256_RsaPss'] as const;
/** A security policy name. */
export type SecurityPolicyName = (typeof SECURITY_POLICIES)[number];
/** Message security mode names. */
export const SECURITY_MODES = ['None', 'Sign', 'SignAndEncrypt'] as const;
/** A message security mode name. */
export type SecurityModeName = (typeof SECURITY_MODES)[number];

/** node-opcua's enum value of a policy name. */
export function securityPolicyOf(name: SecurityPolicyName): SecurityPolicy {
  return SecurityPolicy[name];
}

/** node-opcua's enum value of a mode name. */
export function securityModeOf(name: SecurityModeName): MessageSecurityMode {
  return MessageSecurityMode[name];
}

/** A client application identity: its URI and a PKI folder holding its own certificate. */
export interface ClientIdentity {
  applicationUri: string;
  applicationName: string;
  /** PKI folder of the client (own certificate and key, trusted server certificates); created on first use. */
  pkiDir: string;
}

/** Reads a PEM or DER certificate file as DER. */
export function readCertificateDer(file: string): Buffer {
  const raw = readFileSync(file);
  const text = raw.toString('latin1');
  if (!text.includes('-----BEGIN CERTIFICATE-----')) return raw;
  const b64 = text.split('-----BEGIN CERTIFICATE-----')[1]!.split('-----END CERTIFICATE-----')[0]!.replace(/\s+/g, '');
  return Buffer.from(b64, 'base64');
}

/**
 * Makes (once) the client's certificate manager and self-signed certificate,
 * so the certificate can be trusted by a server before the client connects.
 * Unknown server certificates are accepted: these are test and scenario clients.
 */
export async function prepareClientIdentity(identity: ClientIdentity): Promise<{ certificateManager: OPCUACertificateManager; certificateFile: string; privateKeyFile: string; certificate: Buffer }> {
  mkdirSync(identity.pkiDir, { recursive: true });
  const certificateManager = new OPCUACertificateManager({ rootFolder: identity.pkiDir, automaticallyAcceptUnknownCertificate: true, disableFileWatchers: true });
  await certificateManager.initialize();
  const certificateFile = join(certificateManager.rootDir, 'own', 'certs', 'client_certificate.pem');
  if (!existsSync(certificateFile)) {
    await certificateManager.createSelfSignedCertificate({
      applicationUri: identity.applicationUri,
      subject: `/CN=${identity.applicationName}/O=Weir`,
      dns: [hostname(), 'localhost'],
      startDate: new Date(Date.now() - 24 * 3600_000),
      validity: 3650,
      outputFile: certificateFile,
    });
  }
  return { certificateManager, certificateFile, privateKeyFile: certificateManager.privateKey, certificate: readCertificateDer(certificateFile) };
}

/** How to open a session. */
export interface ConnectOptions {
  endpointUrl: string;
  identity: ClientIdentity;
  securityPolicy?: SecurityPolicyName;
  securityMode?: SecurityModeName;
  /** Username login; anonymous when absent. */
  user?: { username: string; password: string };
  sessionName?: string;
  /** Give up connecting after this many ms (default 10 s). */
  timeoutMs?: number;
}

/** An open client session and how to close it. */
export interface ClientConnection {
  client: OPCUAClient;
  session: ClientSession;
  certificate: Buffer;
  close(): Promise<void>;
}

/** Connects a node-opcua client and opens a session; fails fast instead of retrying for ever. */
export async function connectClient(options: ConnectOptions): Promise<ClientConnection> {
  const prepared = await prepareClientIdentity(options.identity);
  const client = OPCUAClient.create({
    applicationName: options.identity.applicationName,
    applicationUri: options.identity.applicationUri,
    clientCertificateManager: prepared.certificateManager,
    certificateFile: prepared.certificateFile,
    privateKeyFile: prepared.privateKeyFile,
    securityMode: securityModeOf(options.securityMode ?? 'None'),
    securityPolicy: securityPolicyOf(options.securityPolicy ?? 'None'),
    endpointMustExist: false,
    ...(options.sessionName ? { clientName: options.sessionName } : {}),
    keepSessionAlive: false,
    connectionStrategy: { maxRetry: 0, initialDelay: 100, maxDelay: 200 },
    requestedSessionTimeout: 60_000,
    transportTimeout: options.timeoutMs ?? 10_000,
  });
  try {
    await client.connect(options.endpointUrl);
    const identity: UserIdentityInfo = options.user ? { type: UserTokenType.UserName, userName: options.user.username, password: options.user.password } : { type: UserTokenType.Anonymous };
    const session = await client.createSession(identity);
    return {
      client,
      session,
      certificate: prepared.certificate,
      close: async () => {
        await session.close().catch(() => undefined);
        await client.disconnect();
        await prepared.certificateManager.dispose();
      },
    };
  } catch (err) {
    await client.disconnect().catch(() => undefined);
    await prepared.certificateManager.dispose();
    throw err;
  }
}
