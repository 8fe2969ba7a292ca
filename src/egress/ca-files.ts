import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { javaTrustStore, pemCertificates } from './java-truststore.js';

/** The per-run CA as files children can be pointed at; `remove()` deletes them when the run ends. */
export interface CaFiles {
  /** The run's CA alone (NODE_EXTRA_CA_CERTS adds it to Node's roots). */
  caOnly: string;
  /** The run's CA followed by the system roots, for variables that replace the trust store. */
  bundle: string;
  /** The same as `bundle`, as a Java KeyStore (password `javaTrustStorePassword`). */
  javaTrustStore: string;
  remove(): Promise<void>;
}

/** System CA bundles, first readable one wins (Debian/Ubuntu, Fedora/RHEL, Alpine-style). */
const systemBundles = [
  '/etc/ssl/certs/ca-certificates.crt',
  '/etc/pki/tls/certs/ca-bundle.crt',
  '/etc/ssl/cert.pem',
];

export async function writeCaFiles(caCert: string): Promise<CaFiles> {
  const dir = await mkdtemp(join(tmpdir(), 'replay-env-egress-'));
  const caOnly = join(dir, 'ca.pem');
  const bundle = join(dir, 'bundle.pem');
  const javaStore = join(dir, 'truststore.jks');
  let system = '';
  for (const path of systemBundles) {
    system = await readFile(path, 'utf8').catch(() => '');
    if (system) break;
  }
  // SSL_CERT_FILE and friends replace the trust store: a child's loopback HTTPS (not proxied) keeps the
  // system roots this way. Everything proxied is answered with certificates of the run's CA.
  await writeFile(caOnly, caCert, { mode: 0o600 });
  await writeFile(bundle, `${caCert.trimEnd()}\n${system}`, { mode: 0o600 });
  await writeFile(javaStore, javaTrustStore([caCert, ...pemCertificates(system)]), { mode: 0o600 });
  return {
    caOnly,
    bundle,
    javaTrustStore: javaStore,
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
