import { describe, expect, it } from 'vitest';

import { parseManifest } from '../manifest/index.js';
import { emptyWindowedTables } from './window-hint.js';

const manifest = (edges: string[]) =>
  parseManifest(
    JSON.stringify({
      appId: 'a',
      adapter: 'postgres-subject-graph.v1',
      subjectKeys: ['k'],
      postgres: {
        graphEdges: edges,
        tables: [
          {
            name: 'events',
            alias: 'e',
            where: 'e.k = (select k from params) and e.at >= (select since_at from params)',
          },
          { name: 'users', alias: 'u', where: 'u.k in (select k from graph_keys)' },
        ],
      },
    }),
    { file: 'm.json', path: '/m.json', cwd: '/' },
  );

describe('zero-row window hint', () => {
  it('names tables with no rows whose SQL reads since_at', () => {
    expect(emptyWindowedTables(manifest([]), { events: 0, users: 0 })).toEqual(['events']);
    expect(emptyWindowedTables(manifest([]), { events: 3, users: 0 })).toEqual([]);
  });

  it('a windowed graph edge makes every empty table a candidate', () => {
    const edge = 'select k, $$r$$ as reason from x, params seed where x.at >= seed.since_at';
    expect(emptyWindowedTables(manifest([edge]), { events: 0, users: 0 })).toEqual(['events', 'users']);
  });
});
