import { describe, expect, it } from 'vitest';

import { findStub, hostMatches, isLoopbackHost, normalizeHost } from './rules.js';

describe('egress rules', () => {
  it('compares host names case-insensitively and without the trailing dot', () => {
    expect(normalizeHost('Payments.Provider.TEST.')).toBe('payments.provider.test');
    expect(hostMatches('payments.provider.test', 'PAYMENTS.provider.test.')).toBe(true);
    expect(hostMatches('payments.provider.test', 'payments.provider.test.evil.test')).toBe(false);
  });

  it('matches *.suffix on subdomains only, never on a look-alike', () => {
    expect(hostMatches('*.provider.test', 'mail.provider.test')).toBe(true);
    expect(hostMatches('*.provider.test', 'a.b.provider.test')).toBe(true);
    expect(hostMatches('*.provider.test', 'provider.test')).toBe(false);
    expect(hostMatches('*.provider.test', 'evilprovider.test')).toBe(false);
  });

  it('treats 127/8, ::1 and localhost as loopback, and nothing else', () => {
    for (const host of ['localhost', '127.0.0.1', '127.5.6.7', '::1', '[::1]', 'LOCALHOST.']) {
      expect(isLoopbackHost(host)).toBe(true);
    }
    for (const host of ['10.0.0.1', '127.0.0.1.example.test', 'localhost.test', '0.0.0.0', '::ffff:1']) {
      expect(isLoopbackHost(host)).toBe(false);
    }
  });

  it('picks the first stub matching host, method and path (prefix with *)', () => {
    const stubs = [
      { host: 'p.test', method: 'POST', path: '/v1/charges', body: 'a' },
      { host: 'p.test', path: '/v1/*', body: 'b' },
    ];
    expect(findStub(stubs, { method: 'post', host: 'P.test', path: '/v1/charges' })?.body).toBe('a');
    expect(findStub(stubs, { method: 'GET', host: 'p.test', path: '/v1/charges' })?.body).toBe('b');
    expect(findStub(stubs, { method: 'GET', host: 'p.test', path: '/v2' })).toBeUndefined();
    expect(findStub(stubs, { method: 'GET', host: 'q.test', path: '/v1/x' })).toBeUndefined();
  });
});
