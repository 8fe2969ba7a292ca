import { describe, expect, it } from 'vitest';

import { parseManifest } from '../manifest/index.js';
import { buildMissingParentsQuery } from './capsule-closure.js';
import { buildDeletePredicateExplain } from './explain-sql.js';

const manifest = parseManifest(
  JSON.stringify({
    appId: 'shop',
    adapter: 'postgres-subject-graph.v1',
    subjectKeys: ['shop_id', 'customer_id'],
    postgres: {
      tables: [
        {
          name: 'billing.orders',
          deletePredicate: 't.shop_id = g.shop_id and t.customer_id = g.customer_id',
        },
      ],
    },
  }),
  { file: 'm.json', path: '/x/m.json', cwd: '/x' },
);

describe('doctor SQL builders', () => {
  it('plans a deletePredicate as the delete it becomes, over a stub graph_keys', () => {
    expect(buildDeletePredicateExplain(manifest, manifest.postgres.tables[0]!).text).toMatchInlineSnapshot(`
      "explain with graph_keys as (select null::text as "shop_id", null::text as "customer_id")
      delete from "billing"."orders" as t where exists (select 1 from graph_keys g where
      /* tables[billing.orders].deletePredicate */
      t.shop_id = g.shop_id and t.customer_id = g.customer_id
      )"
    `);
  });

  it('looks up missing parents typed by jsonb_populate_record', () => {
    expect(buildMissingParentsQuery('"customers"', ['shop_id', 'customer_id'])).toMatchInlineSnapshot(`
      "select r.n::int as n from jsonb_array_elements($1::jsonb) with ordinality as r(k, n)
      cross join lateral jsonb_populate_record(null::"customers", r.k) as v
      where not exists (select 1 from "customers" p where p."shop_id" = v."shop_id" and p."customer_id" = v."customer_id")"
    `);
  });
});
