import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { checkServerIdentity, type ConnectionOptions, type PeerCertificate, type TLSSocket } from 'node:tls';

import { UsageError } from '../errors.js';
import type { DatabaseUrl } from './database-url.js';

export const sslModes = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
export type SslMode = (typeof sslModes)[number];

/**
 * How to connect to one database, with libpq's semantics (not pg-connection-string's, where `require`
 * verifies the certificate): `mode` from `?sslmode=` (else $PGSSLMODE, else `prefer`), `tls` the
 * node TLS options to use when TLS is tried (undefined for `disable`), `verify` what is checked.
 */
export interface TlsPlan {
  mode: SslMode;
  tls: ConnectionOptions | undefined;
  verify: 'none' | 'ca' | 'full';
}

/**
 * Builds the plan from `sslmode`, `sslrootcert`, `sslcert`, `sslkey`, `sslpassword` (URL parameters,
 * else the PGSSL* variables), as libpq does:
 * - `require` with a root certificate (given, or ~/.postgresql/root.crt present) behaves as `verify-ca`;
 * - `verify-ca`/`verify-full` need a root certificate (`sslrootcert=system` uses the system store);
 * - `verify-full` checks the host name (or IP) the URL names against the certificate;
 * - a unix-socket host never uses TLS.
 * Files that cannot be read are a usage error (exit 2) naming the parameter.
 */
export function tlsPlan(url: DatabaseUrl, env: NodeJS.ProcessEnv = process.env): TlsPlan {
  const setting = (param: string, envVar: string): string | undefined =>
    url.param(param) ?? (env[envVar] || undefined);
  const text = setting('sslmode', 'PGSSLMODE') ?? 'prefer';
  if (!(sslModes as readonly string[]).includes(text)) {
    throw new UsageError(`invalid sslmode "${text}"`, `expected one of ${sslModes.join(', ')}`);
  }
  let mode = text as SslMode;
  if (url.host.startsWith('/'))
    mode = mode === 'disable' || mode === 'allow' || mode === 'prefer' ? 'disable' : mode;
  if (mode === 'disable') return { mode, tls: undefined, verify: 'none' };
  const rootSetting = setting('sslrootcert', 'PGSSLROOTCERT');
  const defaultRoot = join(homedir(), '.postgresql', 'root.crt');
  const rootFile = rootSetting ?? (existsSync(defaultRoot) ? defaultRoot : undefined);
  let verify: TlsPlan['verify'] = 'none';
  if (mode === 'verify-full') verify = 'full';
  else if (mode === 'verify-ca' || (mode === 'require' && rootFile !== undefined)) verify = 'ca';
  if (verify !== 'none' && rootFile === undefined) {
    throw new UsageError(
      `sslmode=${mode} needs a root certificate`,
      'add sslrootcert=/path/to/ca.crt (or sslrootcert=system) to the database URL',
    );
  }
  const tls: ConnectionOptions = { rejectUnauthorized: verify !== 'none' };
  if (verify !== 'none' && rootFile !== 'system') tls.ca = readTlsFile(rootFile!, 'sslrootcert');
  const certFile = setting('sslcert', 'PGSSLCERT');
  const keyFile = setting('sslkey', 'PGSSLKEY');
  if (certFile) tls.cert = readTlsFile(certFile, 'sslcert');
  if (keyFile) tls.key = readTlsFile(keyFile, 'sslkey');
  if (certFile && !keyFile) throw new UsageError('sslcert is given without sslkey');
  const passphrase = url.param('sslpassword');
  if (passphrase) tls.passphrase = passphrase;
  if (isIP(url.host) === 0 && !url.host.startsWith('/')) tls.servername = url.host;
  // Node would check the identity against `servername` (absent for an IP) or "localhost"; libpq checks
  // the host the user named, IP addresses included. verify-ca checks the chain only.
  tls.checkServerIdentity =
    verify === 'full'
      ? (_host: string, cert: PeerCertificate) => checkServerIdentity(url.host, cert)
      : () => undefined;
  return { mode, tls, verify };
}

function readTlsFile(path: string, parameter: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : 'cannot read it';
    throw new UsageError(`${parameter} file ${path}: ${reason}`);
  }
}

/** What a connection ended up using, for the console: "TLSv1.3, certificate verified (verify-full)". */
export interface NegotiatedTls {
  mode: SslMode;
  encrypted: boolean;
  protocol?: string;
  /** One line for humans. */
  summary: string;
}

export function describeNegotiated(plan: TlsPlan, socket: unknown): NegotiatedTls {
  const tlsSocket = socket as Partial<TLSSocket> | undefined;
  if (!tlsSocket?.encrypted) {
    return { mode: plan.mode, encrypted: false, summary: `plaintext (sslmode=${plan.mode})` };
  }
  const protocol = tlsSocket.getProtocol?.() ?? 'TLS';
  const checked =
    plan.verify === 'full'
      ? 'certificate and host name verified'
      : plan.verify === 'ca'
        ? 'certificate chain verified, host name not checked'
        : 'certificate not verified';
  return {
    mode: plan.mode,
    encrypted: true,
    protocol,
    summary: `${protocol}, ${checked} (sslmode=${plan.mode})`,
  };
}
