import { describe, expect, it } from 'vitest';

import { DatabaseUrl } from './database-url.js';
import { tlsPlan } from './tls.js';

const plan = (query: string, env: NodeJS.ProcessEnv = {}) =>
  tlsPlan(DatabaseUrl.parse(`postgres://u:p@db.test:5432/app${query}`), env);

describe('tlsPlan: libpq sslmode semantics', () => {
  it('defaults to prefer without verification, as libpq', () => {
    expect(plan('')).toMatchObject({ mode: 'prefer', verify: 'none', tls: { rejectUnauthorized: false } });
    expect(plan('', { PGSSLMODE: 'disable' })).toMatchObject({ mode: 'disable', tls: undefined });
  });

  it('require does not verify (unlike pg-connection-string), unless a root certificate is given', () => {
    expect(plan('?sslmode=require')).toMatchObject({ verify: 'none', tls: { rejectUnauthorized: false } });
    expect(plan('?sslmode=require&sslrootcert=system')).toMatchObject({
      verify: 'ca',
      tls: { rejectUnauthorized: true },
    });
  });

  it('verify-full checks the host named in the URL; verify-ca does not', () => {
    const full = plan('?sslmode=verify-full&sslrootcert=system');
    expect(full).toMatchObject({ verify: 'full', tls: { servername: 'db.test' } });
    const fakeCert = { subject: { CN: 'other.test' }, subjectaltname: 'DNS:other.test' } as never;
    expect(full.tls!.checkServerIdentity!('ignored', fakeCert)).toBeInstanceOf(Error);
    const ca = plan('?sslmode=verify-ca&sslrootcert=system');
    expect(ca.tls!.checkServerIdentity!('ignored', fakeCert)).toBeUndefined();
  });

  it('a unix socket never uses TLS under prefer', () => {
    expect(tlsPlan(DatabaseUrl.parse('postgres://u@localhost/app?host=/var/run/postgresql'), {}).mode).toBe(
      'disable',
    );
  });

  it.each([
    ['?sslmode=required', 'invalid sslmode "required"'],
    ['?sslmode=verify-ca', 'sslmode=verify-ca needs a root certificate'],
    [
      '?sslmode=require&sslrootcert=/nonexistent/ca.crt',
      'sslrootcert file /nonexistent/ca.crt: no such file',
    ],
    [
      '?sslmode=require&sslcert=/nonexistent/c.crt&sslkey=/k',
      'sslcert file /nonexistent/c.crt: no such file',
    ],
  ])('%s is a usage error', (query, message) => {
    expect(() => plan(query)).toThrow(message);
  });
});

describe('DatabaseUrl reads connection parameters as the driver does', () => {
  it('?password=, ?user=, ?dbname= and the last of repeated ?host=', () => {
    const url = DatabaseUrl.parse(
      'postgres://db.test/app?user=bob&password=hunter22&dbname=shop&host=a.test&host=b.test',
    );
    expect([url.user, url.password, url.database, url.host]).toEqual(['bob', 'hunter22', 'shop', 'b.test']);
    expect(String(url)).not.toContain('hunter22');
    expect(String(url)).toContain('password=***');
  });

  it('keeps TLS parameters away from the driver, and bad escapes or ports are usage errors', () => {
    const url = DatabaseUrl.parse(
      'postgres://u:p@db.test/app?sslmode=require&sslrootcert=/x&application_name=a',
    );
    expect(url.driverConnectionString()).toBe('postgres://u:p@db.test/app?application_name=a');
    expect(() => DatabaseUrl.parse('postgres://u:%zz@db.test/app')).toThrow(
      'database URL has an invalid %-escape',
    );
    expect(() => DatabaseUrl.parse('postgres://u@db.test/app?port=99999')).toThrow('invalid port "99999"');
  });
});
