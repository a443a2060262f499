import { createHash } from 'node:crypto';
import { AnonymousIdentityToken, MessageSecurityMode, UserNameIdentityToken, X509IdentityToken, type ServerSession } from 'node-opcua';
import type { SampleValue } from '../model/plant-model';

/** The OPC UA audit event types the simulator records. */
export type AuditEventType = 'AuditWriteUpdateEventType' | 'AuditCreateSessionEventType' | 'AuditActivateSessionEventType' | 'AuditSessionEventType';

/** Who did something: the session's user and where it came from. */
export interface AuditActor {
  /** User name, `anonymous`, or `x509:<thumbprint>` for a certificate identity. */
  user: string;
  tokenType: 'anonymous' | 'username' | 'certificate' | 'unknown';
  clientAddress?: string;
  clientPort?: number;
  /** From the client's ApplicationDescription in CreateSession (not verified over SecurityPolicy None). */
  clientApplicationUri?: string;
  clientCertificateThumbprint?: string;
  sessionId?: string;
  sessionName?: string;
  securityPolicyUri?: string;
  securityMode?: string;
}

/** One entry of the in-process audit log (`simulator.auditLog()`). */
export interface AuditEntry {
  seq: number;
  /** When it happened, ms since 1970; for writes the time the value took effect (its source timestamp). */
  time: number;
  type: AuditEventType;
  /** Whether the action succeeded (the Status field of the OPC UA audit event). */
  status: boolean;
  /** The OPC UA status code name returned to the client. */
  statusCode: string;
  message: string;
  actor: AuditActor;
  /** For writes: the written NodeId, its tag id and the values before and after. */
  nodeId?: string;
  tag?: string;
  oldValue?: SampleValue | null;
  newValue?: SampleValue | null;
}

/** Which entries to return. */
export interface AuditFilter {
  type?: AuditEventType;
  tag?: string;
  user?: string;
  /** Only entries with time >= since (ms). */
  since?: number;
}

/** A bounded, in-memory audit log: the newest `capacity` entries. */
export class AuditLog {
  private readonly entries: AuditEntry[] = [];
  private seq = 0;
  private readonly listeners: Array<(e: AuditEntry) => void> = [];

  constructor(private readonly capacity = 10_000) {}

  add(entry: Omit<AuditEntry, 'seq'>): AuditEntry {
    const e: AuditEntry = { seq: ++this.seq, ...entry };
    this.entries.push(e);
    if (this.entries.length > this.capacity) this.entries.splice(0, this.entries.length - this.capacity);
    for (const l of this.listeners) l(e);
    return e;
  }

  /** Calls `listener` for every new entry. */
  onEntry(listener: (e: AuditEntry) => void): void {
    this.listeners.push(listener);
  }

  list(filter: AuditFilter = {}): AuditEntry[] {
    return this.entries
      .filter((e) => (filter.type === undefined || e.type === filter.type) && (filter.tag === undefined || e.tag === filter.tag) && (filter.user === undefined || e.actor.user === filter.user) && (filter.since === undefined || e.time >= filter.since))
      .map((e) => structuredClone(e));
  }
}

/** SHA-1 thumbprint of a DER certificate, hex (as OPC UA tools show it). */
export function thumbprint(der: Buffer | null | undefined): string | undefined {
  return der && der.length > 0 ? createHash('sha1').update(der).digest('hex') : undefined;
}

/** The actor of a server session; `userName` overrides the token's user (for failed logins). */
export function actorOf(session: ServerSession | undefined, userName?: string): AuditActor {
  if (!session) return { user: userName ?? 'unknown', tokenType: 'unknown' };
  const token = session.userIdentityToken;
  let user = userName ?? 'unknown';
  let tokenType: AuditActor['tokenType'] = userName ? 'username' : 'unknown';
  if (!userName && token instanceof UserNameIdentityToken) {
    user = token.userName ?? '';
    tokenType = 'username';
  } else if (!userName && token instanceof AnonymousIdentityToken) {
    user = 'anonymous';
    tokenType = 'anonymous';
  } else if (!userName && token instanceof X509IdentityToken) {
    user = `x509:${thumbprint(token.certificateData) ?? ''}`;
    tokenType = 'certificate';
  }
  const channel = session.channel;
  const actor: AuditActor = { user, tokenType };
  if (channel) {
    actor.clientAddress = channel.remoteAddress;
    actor.clientPort = channel.remotePort;
    actor.securityPolicyUri = String(channel.securityPolicy);
    actor.securityMode = MessageSecurityMode[channel.securityMode];
    const tp = thumbprint(channel.clientCertificate);
    if (tp) actor.clientCertificateThumbprint = tp;
  }
  const appUri = session.clientDescription?.applicationUri;
  if (appUri) actor.clientApplicationUri = appUri;
  actor.sessionId = session.nodeId.toString();
  actor.sessionName = session.sessionName;
  return actor;
}
