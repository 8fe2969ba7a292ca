import { existsSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { egressEnv, loopbackNoProxy, nodePreloadPath } from './child-env.js';

const ca = {
  caOnly: '/tmp/run/ca.pem',
  bundle: '/tmp/run/bundle.pem',
  javaTrustStore: '/tmp/run/truststore.jks',
  remove: async () => {},
};

describe('egressEnv', () => {
  it('points every proxy variable at the step proxy and keeps loopback out of it', () => {
    const env = egressEnv('http://127.0.0.1:4000', ca, {});
    for (const name of ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy', 'ALL_PROXY']) {
      expect(env[name]).toBe('http://127.0.0.1:4000');
    }
    expect(env.NO_PROXY).toBe(loopbackNoProxy);
    expect(env.NODE_EXTRA_CA_CERTS).toBe('/tmp/run/ca.pem');
    expect(env.SSL_CERT_FILE).toBe('/tmp/run/bundle.pem');
  });

  it("appends the preload to the child's NODE_OPTIONS, and the preload file exists", () => {
    const env = egressEnv('http://127.0.0.1:4000', ca, { NODE_OPTIONS: '--max-old-space-size=256' });
    expect(env.NODE_OPTIONS).toMatch(/^--max-old-space-size=256 --import "file:\/\/.*egress-proxy\.mjs"$/);
    expect(existsSync(nodePreloadPath)).toBe(true);
  });

  it("appends Java's proxy and trust store properties to the child's JAVA_TOOL_OPTIONS", () => {
    const env = egressEnv('http://127.0.0.1:4000', ca, { JAVA_TOOL_OPTIONS: '-Dhttp.proxyHost=evil.test' });
    expect(env.JAVA_TOOL_OPTIONS).toBe(
      '-Dhttp.proxyHost=evil.test -Dhttp.proxyHost=127.0.0.1 -Dhttp.proxyPort=4000 -Dhttps.proxyHost=127.0.0.1 ' +
        '-Dhttps.proxyPort=4000 -Dhttp.nonProxyHosts=localhost|*.localhost|127.*|[::1] ' +
        '-Djavax.net.ssl.trustStore=/tmp/run/truststore.jks -Djavax.net.ssl.trustStoreType=JKS ' +
        '-Djavax.net.ssl.trustStorePassword=replay-env',
    );
  });
});
