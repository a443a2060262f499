import { readFileSync } from 'node:fs';
import { MessageSecurityMode, OPCUAClient, readOperationLimits, SecurityPolicy, UserTokenType, type ClientSession, type UserIdentityInfo } from 'node-opcua';
import { errorMessage, OpcuaError } from '../opcua-error';
import { certificateThumbprint, readCertificate, type ClientPki } from './pki';
import { guardClient, readOnlySession, type ReadOnlySession } from './read-only-guard';

/** Message security modes by name. */
export const SECURITY_MODES = ['None', 'Sign', 'SignAndEncrypt'] as const;
/** A message security mode name. */
export type SecurityModeName = (typeof SECURITY_MODES)[number];
/** Security policies by name (the last part of the policy URI). Basic128Rsa15 and Basic256 are deprecated but still met in plants. */
export const SECURITY_POLICIES = ['None', 'Basic128Rsa15', 'Basic256', 'Basic256Sha256', 'Aes128_Sha256_RsaOaep', 'Aes256_Sha256_RsaPss'] as const;
/** A security policy name. */
export type SecurityPolicyName = (typeof SECURITY_POLICIES)[number];

/** How the session logs in. */
export type UserIdentity =
  | { type: 'anonymous' }
  | { type: 'username'; username: string; password: string }
  /** X.509 user certificate and its private key (PEM files). */
  | { type: 'certificate'; certificateFile: string; privateKeyFile: string };

/** The server's OperationLimits the connector respects; 0 means the server states no limit. */
export interface OperationLimits {
  maxNodesPerRead: number;
  maxNodesPerBrowse: number;
  maxMonitoredItemsPerCall: number;
  maxNodesPerHistoryReadData: number;
  maxNodesPerHistoryReadEvents: number;
  maxNodesPerTranslateBrowsePathsToNodeIds: number;
}

/** What to connect to and how. */
export interface ConnectOptions {
  endpointUrl: string;
  securityMode: SecurityModeName;
  securityPolicy: SecurityPolicyName;
  identity: UserIdentity;
  pki: ClientPki;
  applicationUri: string;
  applicationName: string;
  /** Session name the server shows in its diagnostics and audit log. */
  sessionName?: string;
  /** Give up a connection attempt after this many ms. Default 10,000. */
  connectTimeoutMs?: number;
  /** Requested session timeout in ms. Default 60,000. */
  sessionTimeoutMs?: number;
  /** Interval of the session keep-alive reads, in ms; a missed answer counts as a lost connection. Default 5,000. */
  keepAliveIntervalMs?: number;
}

/** One endpoint a server offers: its URL, security mode name and security policy URI. */
export interface OfferedEndpoint {
  endpointUrl: string;
  securityMode: string;
  securityPolicyUri: string;
}

/** An open, read-only session and its client. */
export interface ReadOnlyConnection {
  /** The guarded client: any request not on the read-only list fails before it is sent. */
  readonly client: OPCUAClient;
  /** The guarded session (see `readOnlySession`). */
  readonly session: ClientSession & ReadOnlySession;
  /** The server's operation limits (0 = none stated). */
  readonly limits: OperationLimits;
  /** The server's namespace array, index → URI. */
  readonly namespaces: string[];
  /** The certificate the server presented on the selected endpoint. */
  readonly serverCertificate: Buffer | undefined;
  /** The server's application URI, as its endpoint description states it. */
  readonly serverApplicationUri: string | undefined;
  /** Every endpoint the server offers (GetEndpoints): what asset visibility reports, e.g. one offering SecurityPolicy None. */
  readonly endpoints: readonly OfferedEndpoint[];
  /** Calls `listener` once when the connection or the session is lost (server gone, keep-alive failed, session closed by the server). */
  onLost(listener: (reason: string) => void): void;
  /** Closes the session (deleting its subscriptions) and the channel. Never throws. */
  close(): Promise<void>;
}

/** node-opcua's enum value of a mode name. */
export function securityModeOf(name: SecurityModeName): MessageSecurityMode {
  return MessageSecurityMode[name];
}

/** node-opcua's policy URI of a policy name. */
export function securityPolicyOf(name: SecurityPolicyName): SecurityPolicy {
  return SecurityPolicy[name];
}

function identityInfo(identity: UserIdentity): UserIdentityInfo {
  switch (identity.type) {
    case 'anonymous':
      return { type: UserTokenType.Anonymous };
    case 'username':
      return { type: UserTokenType.UserName, userName: identity.username, password: identity.password };
    case 'certificate': {
      let certificateData: Buffer;
      let privateKey: string;
      try {
        certificateData = readCertificate(identity.certificateFile);
        privateKey = readFileSync(identity.privateKeyFile, 'utf8');
      } catch (err) {
        throw new OpcuaError('OPCUA.CERTIFICATE', `cannot read the user certificate ${identity.certificateFile} or its key ${identity.privateKeyFile}: ${errorMessage(err)}`, { cause: err });
      }
      return { type: UserTokenType.Certificate, certificateData, privateKey };
    }
  }
}

function untrusted(endpointUrl: string, certificate: Buffer | undefined, pki: ClientPki, status: string): OpcuaError {
  const tp = certificate ? certificateThumbprint(certificate) : 'unknown';
  return new OpcuaError(
    'OPCUA.SERVER_CERTIFICATE_UNTRUSTED',
    `the server certificate of ${endpointUrl} (SHA-1 thumbprint ${tp}) is not trusted (${status}); ` +
      `the connection was refused. If this is the right server, move its certificate from ${pki.certificateManager.rejectedFolder} ` +
      `to ${pki.certificateManager.trustedFolder}, or list it in trustedServerCertificates`,
  );
}

const DEFAULT_LIMITS: OperationLimits = { maxNodesPerRead: 0, maxNodesPerBrowse: 0, maxMonitoredItemsPerCall: 0, maxNodesPerHistoryReadData: 0, maxNodesPerHistoryReadEvents: 0, maxNodesPerTranslateBrowsePathsToNodeIds: 0 };

/**
 * Connects to one endpoint with the given security and identity and opens a
 * read-only session. The client never reconnects by itself (connection
 * strategy without retries): when the connection breaks, `onLost` fires and
 * the caller opens a new connection, re-creates its subscriptions and reads
 * the gap back from history. That keeps recovery in one place the connector
 * controls and tests, instead of node-opcua's transfer/republish machinery.
 *
 * The server certificate is checked against the trust list for every
 * security mode (node-opcua only checks it for Sign/SignAndEncrypt): an
 * unknown server is refused with `OPCUA.SERVER_CERTIFICATE_UNTRUSTED` before
 * a session exists.
 */
export async function connectReadOnly(options: ConnectOptions): Promise<ReadOnlyConnection> {
  const { pki, endpointUrl } = options;
  const client = OPCUAClient.create({
    applicationName: options.applicationName,
    applicationUri: options.applicationUri,
    clientCertificateManager: pki.certificateManager,
    certificateFile: pki.certificateFile,
    privateKeyFile: pki.privateKeyFile,
    securityMode: securityModeOf(options.securityMode),
    securityPolicy: securityPolicyOf(options.securityPolicy),
    endpointMustExist: false,
    clientName: options.sessionName ?? 'weir-opcua-connector',
    keepSessionAlive: true,
    keepAliveInterval: options.keepAliveIntervalMs ?? 5000,
    connectionStrategy: { maxRetry: 0, initialDelay: 100, maxDelay: 200 },
    requestedSessionTimeout: options.sessionTimeoutMs ?? 60_000,
    transportTimeout: options.connectTimeoutMs ?? 10_000,
  });
  guardClient(client);

  let lostReason: string | undefined;
  const lostListeners: Array<(reason: string) => void> = [];
  let closing = false;
  const lost = (reason: string): void => {
    if (closing || lostReason !== undefined) return;
    lostReason = reason;
    for (const l of lostListeners.splice(0)) l(reason);
  };
  client.on('connection_lost', () => lost('connection lost'));
  client.on('close', (err?: Error | null) => lost(err ? `connection closed: ${err.message}` : 'connection closed'));

  try {
    await client.connect(endpointUrl);
  } catch (err) {
    await client.disconnect().catch(() => undefined);
    const message = errorMessage(err);
    if (/certificate verification failed|BadCertificate/i.test(message)) {
      const status = /(Bad[A-Za-z]+)/.exec(message)?.[1] ?? 'BadCertificateUntrusted';
      throw untrusted(endpointUrl, undefined, pki, status);
    }
    if (/cannot find endpoint/i.test(message)) {
      throw new OpcuaError('OPCUA.ENDPOINT_NOT_FOUND', `${endpointUrl} offers no endpoint with security mode ${options.securityMode} and policy ${options.securityPolicy}`, { cause: err });
    }
    throw new OpcuaError('OPCUA.CONNECT_FAILED', `cannot connect to ${endpointUrl}: ${message}`, { cause: err });
  }

  try {
    // For mode None node-opcua does not look at the server certificate; we do, for every mode.
    const endpoints = await client.getEndpoints({ endpointUrl });
    const wantedMode = securityModeOf(options.securityMode);
    const wantedPolicy = securityPolicyOf(options.securityPolicy);
    const endpoint = endpoints.find((e) => e.securityMode === wantedMode && e.securityPolicyUri === wantedPolicy);
    if (!endpoint) throw new OpcuaError('OPCUA.ENDPOINT_NOT_FOUND', `${endpointUrl} offers no endpoint with security mode ${options.securityMode} and policy ${options.securityPolicy}`);
    const serverCertificate = endpoint.serverCertificate ?? undefined;
    if (!serverCertificate || serverCertificate.length === 0) {
      throw untrusted(endpointUrl, undefined, pki, 'no certificate presented');
    }
    const status = await pki.check(serverCertificate);
    if (status !== 'Good') throw untrusted(endpointUrl, serverCertificate, pki, status);

    let rawSession: ClientSession;
    try {
      rawSession = await client.createSession(identityInfo(options.identity));
    } catch (err) {
      if (err instanceof OpcuaError) throw err;
      throw new OpcuaError('OPCUA.CONNECT_FAILED', `${endpointUrl} refused the session (${options.identity.type} login): ${errorMessage(err)}`, { cause: err });
    }
    rawSession.on('keepalive_failure', () => lost('session keep-alive failed'));
    rawSession.on('session_closed', () => lost('session closed by the server'));
    const session = readOnlySession(rawSession);

    let limits = DEFAULT_LIMITS;
    try {
      limits = { ...DEFAULT_LIMITS, ...(await readOperationLimits(session)) } as OperationLimits;
    } catch {
      // A server without OperationLimits nodes: callers fall back to conservative chunk sizes.
    }
    const namespaces = ((await session.readNamespaceArray()) as string[] | undefined) ?? [];

    return {
      client,
      session,
      limits,
      namespaces,
      serverCertificate,
      serverApplicationUri: endpoint.server?.applicationUri ?? undefined,
      endpoints: endpoints.map((e) => ({ endpointUrl: e.endpointUrl ?? endpointUrl, securityMode: MessageSecurityMode[e.securityMode] ?? String(e.securityMode), securityPolicyUri: e.securityPolicyUri ?? '' })),
      onLost: (listener) => {
        if (lostReason !== undefined) listener(lostReason);
        else lostListeners.push(listener);
      },
      close: async () => {
        closing = true;
        await rawSession.close(true).catch(() => undefined);
        await client.disconnect().catch(() => undefined);
      },
    };
  } catch (err) {
    closing = true;
    await client.disconnect().catch(() => undefined);
    if (err instanceof OpcuaError) throw err;
    throw new OpcuaError('OPCUA.CONNECT_FAILED', `cannot open a session on ${endpointUrl}: ${errorMessage(err)}`, { cause: err });
  }
}
