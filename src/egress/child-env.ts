import { fileURLToPath, pathToFileURL } from 'node:url';

import type { CaFiles } from './ca-files.js';

/** Loopback names no client should send to the proxy. */
export const loopbackNoProxy = 'localhost,127.0.0.1,::1';

/** preload/egress-proxy.mjs of this package (same depth from src/egress and dist/egress). */
export const nodePreloadPath = fileURLToPath(new URL('../../preload/egress-proxy.mjs', import.meta.url));

/**
 * The variables that send a child's HTTP(S) through its egress proxy and make it trust the run's CA.
 * `nodeOptions` is the child's NODE_OPTIONS so far; the preload is appended to it.
 */
export function egressEnv(
  proxyUrl: string,
  ca: CaFiles,
  nodeOptions: string | undefined,
): Record<string, string> {
  const preload = `--import ${JSON.stringify(pathToFileURL(nodePreloadPath).href)}`;
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
    NODE_OPTIONS: nodeOptions ? `${nodeOptions} ${preload}` : preload,
    NODE_EXTRA_CA_CERTS: ca.caOnly,
    SSL_CERT_FILE: ca.bundle,
    REQUESTS_CA_BUNDLE: ca.bundle,
    CURL_CA_BUNDLE: ca.bundle,
  };
}
