import { fileURLToPath, pathToFileURL } from 'node:url';

import type { CaFiles } from './ca-files.js';
import { javaTrustStorePassword } from './java-truststore.js';

/** Loopback names no client should send to the proxy. */
export const loopbackNoProxy = 'localhost,127.0.0.1,::1';

/** preload/egress-proxy.mjs of this package (same depth from src/egress and dist/egress). */
export const nodePreloadPath = fileURLToPath(new URL('../../preload/egress-proxy.mjs', import.meta.url));

/** Java's form of the loopback names (`http.nonProxyHosts` also covers https). */
const javaNoProxy = 'localhost|*.localhost|127.*|[::1]';

/**
 * The variables that send a child's HTTP(S) through its egress proxy and make it trust the run's CA.
 * `inherited` holds the child's NODE_OPTIONS and JAVA_TOOL_OPTIONS so far: ours are appended (the last
 * `-D` of a property wins in Java).
 */
export function egressEnv(
  proxyUrl: string,
  ca: CaFiles,
  inherited: { NODE_OPTIONS?: string | undefined; JAVA_TOOL_OPTIONS?: string | undefined },
): Record<string, string> {
  const preload = `--import ${JSON.stringify(pathToFileURL(nodePreloadPath).href)}`;
  const { hostname, port } = new URL(proxyUrl);
  const java = [
    `-Dhttp.proxyHost=${hostname}`,
    `-Dhttp.proxyPort=${port}`,
    `-Dhttps.proxyHost=${hostname}`,
    `-Dhttps.proxyPort=${port}`,
    `-Dhttp.nonProxyHosts=${javaNoProxy}`,
    `-Djavax.net.ssl.trustStore=${ca.javaTrustStore}`,
    '-Djavax.net.ssl.trustStoreType=JKS',
    `-Djavax.net.ssl.trustStorePassword=${javaTrustStorePassword}`,
  ].join(' ');
  return {
    HTTP_PROXY: proxyUrl,
    HTTPS_PROXY: proxyUrl,
    http_proxy: proxyUrl,
    https_proxy: proxyUrl,
    ALL_PROXY: proxyUrl,
    all_proxy: proxyUrl,
    NO_PROXY: loopbackNoProxy,
    no_proxy: loopbackNoProxy,
    NODE_USE_ENV_PROXY: '1',
    NODE_OPTIONS: inherited.NODE_OPTIONS ? `${inherited.NODE_OPTIONS} ${preload}` : preload,
    JAVA_TOOL_OPTIONS: inherited.JAVA_TOOL_OPTIONS ? `${inherited.JAVA_TOOL_OPTIONS} ${java}` : java,
    NODE_EXTRA_CA_CERTS: ca.caOnly,
    SSL_CERT_FILE: ca.bundle,
    REQUESTS_CA_BUNDLE: ca.bundle,
    CURL_CA_BUNDLE: ca.bundle,
  };
}
