import { describe, expect, it } from 'vitest';

import { DatabaseUrl } from '../../../src/postgres/database-url.js';
import { checkTargetBeforeConnect, resolveDatabaseUrl } from '../../../src/postgres/target.js';
import { canonicalHost, productionReason } from '../../../src/postgres/target-safety.js';

// #13 item 2: target guards compare what the driver connects to, in canonical form, not URL text.

describe('production-looking endpoints (as the driver resolves them)', () => {
  it.each([
    ['postgres://u@10.1.2.3/app', 'network address'],
    ['postgres://u@192.168.0.7:5432/app', 'network address'],
    ['postgres://u@203.0.113.9/app', 'network address'],
    ['postgres://u@db.corp.example.com/app', 'fully qualified name outside localhost'],
    ['postgres://u@mydb.abc.eu-west-1.rds.amazonaws.com./app', 'managed cloud database'],
    ['postgres://u@wh.abc.us-east-1.redshift.amazonaws.com:5439/dev', 'managed cloud database'],
    ['postgres://u@localhost/proddb', 'database "proddb" looks like production'],
    ['postgres://u@localhost/app_prod2', 'looks like production'],
    ['postgres://u@a/x?host=prod-db.internal', 'host "prod-db.internal" looks like production'],
  ])('%s is refused (%s)', (text, reason) => {
    expect(productionReason(DatabaseUrl.parse(text))).toContain(reason);
  });

  it.each([
    'postgres://u@localhost/app_replay',
    'postgres://u@127.1:5432/app',
    'postgres://u@[::1]:5432/app',
    'postgres://u@0x7f.1:5432/app',
    'postgres://u@localhost./app',
    'postgres://u@db.replay.test/app',
    'postgres://u@staging-db/products',
    'postgres:///app?host=/var/run/postgresql',
    'postgres://u@10.0.0.5:5433/app',
  ])('%s is allowed', (text) => {
    expect(productionReason(DatabaseUrl.parse(text))).toBeUndefined();
  });

  it('every loopback spelling is one host', () => {
    for (const host of [
      'localhost',
      'LOCALHOST.',
      '127.0.0.1',
      '127.1',
      '127.0.0.2',
      '::1',
      '[::1]',
      '2130706433',
      // Connecting to the unspecified address reaches this machine; IPv4-mapped loopback in hex.
      '0.0.0.0',
      '0',
      '[::]',
      '[::ffff:127.0.0.1]',
      '::ffff:7f00:1',
    ])
      expect(canonicalHost(host), host).toBe('loopback');
  });
});

describe('the export source by another name', () => {
  const env = (prod: string, extra: NodeJS.ProcessEnv = {}) => ({ PROD: prod, ...extra });
  it.each([
    ['postgres://u@localhost:5432/shop', 'postgres://v@127.0.0.1/shop'],
    ['postgres://u@localhost:5432/shop', 'postgres://v@127.1/shop'],
    ['postgres://u@localhost:5432/shop', 'postgres://v@x/shop?host=y&host=localhost'],
  ])('source %s, target %s → refused', (prod, target) => {
    expect(() =>
      checkTargetBeforeConnect(DatabaseUrl.parse(target), { prodEnvVar: 'PROD', env: env(prod) }),
    ).toThrow(/it is the export source/);
  });

  it('a capsule header source (host:port/db) is compared in canonical form too', () => {
    expect(() =>
      checkTargetBeforeConnect(DatabaseUrl.parse('postgres://u@127.0.0.1:5432/shop'), {
        capsuleSource: { database: 'localhost:5432/shop' },
      }),
    ).toThrow(/exported from/);
  });
});

describe('the URL the driver really uses', () => {
  it('PGHOST/PGPORT/PGDATABASE fill what the URL leaves out', () => {
    const saved = { ...process.env };
    Object.assign(process.env, { PGHOST: 'envhost', PGPORT: '6543', PGDATABASE: 'app_prod' });
    try {
      const url = DatabaseUrl.parse('postgres:///');
      expect(url.identity()).toBe('envhost:6543/app_prod');
      expect(productionReason(url)).toContain('app_prod');
    } finally {
      for (const key of ['PGHOST', 'PGPORT', 'PGDATABASE']) {
        if (saved[key] === undefined) delete process.env[key];
        else process.env[key] = saved[key];
      }
    }
  });

  it('the last ?host= wins, as in the driver', () => {
    expect(DatabaseUrl.parse('postgres://u@a/db?host=b&host=c').host).toBe('c');
  });

  it('--db-url "" is an error, not a fallback', () => {
    expect(() =>
      resolveDatabaseUrl({ flag: '', envVar: 'X', env: { X: 'postgres://u@localhost/db' } }),
    ).toThrow('--db-url is empty');
  });

  it('a bad %-escape is a usage error (a missing sslcert file: test/e2e/safety-small.test.ts)', () => {
    expect(() => DatabaseUrl.parse('postgres://u:%zz@localhost/db')).toThrow(/invalid %-escape/);
  });
});
