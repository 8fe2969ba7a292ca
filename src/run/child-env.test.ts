import { describe, expect, it } from 'vitest';

import { childEnv } from './child-env.js';

describe('childEnv', () => {
  it('keeps allow-listed parent variables only, and overwrites the production URL after the step env', () => {
    const env = childEnv({
      manifest: { postgres: { prodDatabaseUrlEnv: 'P', replayDatabaseUrlEnv: 'R' } } as never,
      databaseUrl: undefined,
      parentEnv: { P: 'postgres://real@prod/db', PATH: '/bin', SOMETHING_ELSE: '1', PGPASSWORD: 'pw' },
      extra: { P: 'postgres://sneaky@prod/db', X: 'y' },
    });
    expect(env).toEqual({
      P: 'postgres://replay-env-blocked@127.0.0.1:1/blocked-by-replay-env',
      PATH: '/bin',
      X: 'y',
    });
  });
});
