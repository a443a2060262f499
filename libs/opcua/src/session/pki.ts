import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { OPCUACertificateManager } from 'node-opcua';
import { errorMessage, OpcuaError } from '../opcua-error';

/** Where the client keeps its own certificate and which server certificates it trusts. */
export interface ClientPkiOptions {
  /** PKI folder: `own/` (certificate and key, created on first start), `trusted/`, `rejected/`, `issuers/`. */
  pkiDir: string;
  /** The client's ApplicationUri; written into its certificate's SAN, servers check it. */
  applicationUri: string;
  /** The client's application name (certificate CN). */
  applicationName: string;
  /** Server certificates to trust in addition to `<pkiDir>/trusted/certs` (PEM or DER files, or DER buffers). */
  trustedServerCertificates?: ReadonlyArray<string | Buffer>;
  /** Trust any server certificate. Off by default: unknown servers are refused and their certificate lands in `<pkiDir>/rejected`. */
  acceptUnknownServerCertificates?: boolean;
}

/** The client's PKI, ready to hand to `OPCUAClient.create`. */
export interface ClientPki {
  certificateManager: OPCUACertificateManager;
  certificateFile: string;
  privateKeyFile: string;
  /** The client's own certificate (DER), so a server can be told to trust it. */
  certificate: Buffer;
  /** SHA-1 thumbprint (hex) of the own certificate, as OPC UA tools show it. */
  thumbprint: string;
  /** Trusts a server certificate from now on (written to `trusted/certs`). */
  trust(certificate: Buffer): Promise<void>;
  /** `Good`, or the name of the status why a server certificate is not accepted (`BadCertificateUntrusted`, ...). */
  check(certificate: Buffer): Promise<string>;
  dispose(): Promise<void>;
}

/** Reads a PEM or DER certificate file as DER. */
export function readCertificate(file: string): Buffer {
  const raw = readFileSync(file);
  const text = raw.toString('latin1');
  if (!text.includes('-----BEGIN CERTIFICATE-----')) return raw;
  const b64 = text.split('-----BEGIN CERTIFICATE-----')[1]!.split('-----END CERTIFICATE-----')[0]!.replace(/\s+/g, '');
  return Buffer.from(b64, 'base64');
}

/** SHA-1 thumbprint of a DER certificate, lower-case hex. */
export function certificateThumbprint(der: Buffer): string {
  return createHash('sha1').update(der).digest('hex');
}

/**
 * Opens the client PKI: creates the folder layout and, on first start, a
 * self-signed application certificate (10 years, the host name and
 * `localhost` in the SAN); loads the configured trusted server certificates.
 * Later starts reuse the same certificate, so a server that trusted it once
 * keeps trusting it.
 */
export async function openClientPki(options: ClientPkiOptions): Promise<ClientPki> {
  try {
    mkdirSync(options.pkiDir, { recursive: true });
    const certificateManager = new OPCUACertificateManager({
      rootFolder: options.pkiDir,
      automaticallyAcceptUnknownCertificate: options.acceptUnknownServerCertificates ?? false,
      // Trust decisions are made by people moving files; we re-read on each start rather than watching.
      disableFileWatchers: true,
      name: 'PKI',
    });
    await certificateManager.initialize();
    const certificateFile = join(certificateManager.rootDir, 'own', 'certs', 'client_certificate.pem');
    if (!existsSync(certificateFile)) {
      await certificateManager.createSelfSignedCertificate({
        applicationUri: options.applicationUri,
        subject: `/CN=${options.applicationName}/O=Weir`,
        dns: [...new Set([hostname(), 'localhost'])],
        // A day back, so a server whose clock is slightly behind does not see a certificate from the future.
        startDate: new Date(Date.now() - 24 * 3_600_000),
        validity: 3650,
        outputFile: certificateFile,
      });
    }
    for (const c of options.trustedServerCertificates ?? []) {
      await certificateManager.trustCertificate(typeof c === 'string' ? readCertificate(c) : c);
    }
    const certificate = readCertificate(certificateFile);
    return {
      certificateManager,
      certificateFile,
      privateKeyFile: certificateManager.privateKey,
      certificate,
      thumbprint: certificateThumbprint(certificate),
      trust: (der) => certificateManager.trustCertificate(der),
      check: async (der) => (await certificateManager.checkCertificate(der)).name,
      dispose: () => certificateManager.dispose(),
    };
  } catch (err) {
    if (err instanceof OpcuaError) throw err;
    throw new OpcuaError('OPCUA.CERTIFICATE', `cannot open the client PKI in ${options.pkiDir}: ${errorMessage(err)}`, { cause: err });
  }
}
