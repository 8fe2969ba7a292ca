import { describe, expect, it } from 'vitest';

import { childEnv } from './child-env.js';

describe('childEnv', () => {
  it('overwrites the production URL after the parent and the step env', () => {
    const env = childEnv({
      manifest: { postgres: { prodDatabaseUrlEnv: 'P', replayDatabaseUrlEnv: 'R' } } as never,
      databaseUrl: undefined,
      parentEnv: { P: 'postgres://real@prod/db', KEEP: '1' },
      extra: { P: 'postgres://sneaky@prod/db', X: 'y' },
    });
    expect(env).toEqual({
      P: 'postgres://replay-env-blocked@127.0.0.1:1/blocked-by-replay-env',
      KEEP: '1',
      X: 'y',
    });
  });
});
