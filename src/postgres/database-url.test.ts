import { describe, expect, it } from 'vitest';

import { scrubSecrets } from '../secrets.js';
import { DatabaseUrl } from './database-url.js';
import { checkTargetBeforeConnect } from './target.js';
import { productionReason } from './target-safety.js';

describe('DatabaseUrl', () => {
  it('never renders its password, but hands it to the driver', () => {
    const url = DatabaseUrl.parse('postgresql://app:s3cr%40t-pass@db.local:6543/replay');
    expect(url.password).toBe('s3cr@t-pass');
    expect(String(url)).toBe('postgresql://app:***@db.local:6543/replay');
    expect(JSON.stringify({ url })).toBe('{"url":"postgresql://app:***@db.local:6543/replay"}');
    expect(url.connectionString()).toContain('s3cr%40t-pass');
    expect(url.identity()).toBe('db.local:6543/replay');
    expect(scrubSecrets('oops s3cr@t-pass leaked')).toBe('oops *** leaked');
  });

  it('rejects what is not a postgres URL', () => {
    expect(() => DatabaseUrl.parse('mysql://x@y/z')).toThrow(
      'database URL must start with postgres:// or postgresql://',
    );
    expect(() => DatabaseUrl.parse('host=localhost dbname=x')).toThrow('database URL is not a valid URL');
  });
});

describe('production-looking targets', () => {
  it.each([
    ['postgres://u@prod-db.internal/app', 'host "prod-db.internal" looks like production'],
    ['postgres://u@db.internal/app_production', 'database "app_production" looks like production'],
    ['postgres://u@mydb.abc123.eu-west-1.rds.amazonaws.com/app', 'is a managed cloud database'],
    ['postgres://u@ep-cool-1234.eu-central-1.aws.neon.tech/app', 'is a managed cloud database'],
    ['postgres://u@db.xyz.supabase.co/postgres', 'is a managed cloud database'],
  ])('%s is refused', (text, reason) => {
    expect(productionReason(DatabaseUrl.parse(text))).toContain(reason);
    expect(() => checkTargetBeforeConnect(DatabaseUrl.parse(text), {})).toThrow(/^refusing to write to /);
  });

  it.each([
    'postgres://u@localhost/app_replay',
    'postgres://u@127.0.0.1:5433/reproduce',
    'postgres://u@staging-db/app',
  ])('%s is allowed', (text) => {
    expect(productionReason(DatabaseUrl.parse(text))).toBeUndefined();
    expect(() => checkTargetBeforeConnect(DatabaseUrl.parse(text), {})).not.toThrow();
  });

  it('refuses the export source, unless overridden', () => {
    const env = { PROD: 'postgres://u:a@LOCALHOST:5432/shop' };
    const target = DatabaseUrl.parse('postgres://other:b@localhost/shop');
    expect(() => checkTargetBeforeConnect(target, { prodEnvVar: 'PROD', env })).toThrow(
      'it is the export source ($PROD)',
    );
    expect(() =>
      checkTargetBeforeConnect(target, { prodEnvVar: 'PROD', env, allowUnsafeTarget: true }),
    ).not.toThrow();
  });
});
