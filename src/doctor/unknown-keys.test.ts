import { describe, expect, it } from 'vitest';

import { unknownManifestKeys } from './unknown-keys.js';

describe('unknownManifestKeys', () => {
  it('names keys the schema does not have, at any depth, and leaves free-form maps alone', () => {
    expect(
      unknownManifestKeys({
        appId: 'a',
        adapter: 'postgres-subject-graph.v1',
        subjectKeys: ['k'],
        localSubject: { k: 'v' },
        colour: 'blue',
        postgres: { tables: [{ name: 'x', deletePredicat: 'true' }], tabelOrder: [] },
        commands: [{ name: 'c', run: 'true', env: { ANY: '1' }, waitFor: { url: 'http://x', retries: 3 } }],
        probes: [
          {
            name: 'p',
            kind: 'http',
            url: 'http://x',
            headers: { 'x-a': 'b' },
            expectJson: { path: 'a', eq: 1 },
          },
        ],
        redactionRules: [{ fields: ['a'], action: 'hash', salt: 'x' }],
        session: { listen: ':1', password: 'x' },
      }),
    ).toEqual([
      '/colour',
      '/postgres/tables/0/deletePredicat',
      '/postgres/tabelOrder',
      '/commands/0/waitFor/retries',
      '/probes/0/expectJson/eq',
      '/redactionRules/0/salt',
      '/session/password',
    ]);
  });

  it('finds nothing in a manifest that only uses known keys', () => {
    expect(unknownManifestKeys({ appId: 'a', postgres: { tables: [{ name: 'x', alias: 'y' }] } })).toEqual(
      [],
    );
  });
});
