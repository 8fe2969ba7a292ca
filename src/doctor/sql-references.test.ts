import { describe, expect, it } from 'vitest';

import { columnReferences, relationAliases } from './sql-references.js';

describe('columnReferences', () => {
  it.each([
    ['t.shop_id = g.shop_id', ['t.shop_id', 'g.shop_id']],
    ['T.Shop_Id = "G"."Key"', ['t.shop_id', 'G.Key']],
    // Literals, comments and dollar quotes are not SQL.
    [
      `t.a = 'x.y' and t.b = E'it\\'s a.b' -- c.d\n and /* e.f /* nested g.h */ */ t.c = $$i.j$$`,
      ['t.a', 't.b', 't.c'],
    ],
    // Function calls, stars, three-part names and numbers are not column references.
    ['pg_catalog.now() > t.at and to_jsonb(t.*) is not null and s.t.c = 1.5', ['t.at']],
    ['(t.profile).email = 1', ['t.profile']],
  ])('%s', (sql, expected) => {
    expect(columnReferences(sql).map((r) => `${r.qualifier}.${r.column}`)).toEqual(expected);
  });
});

describe('relationAliases', () => {
  const pairs = (sql: string, startInFrom = false) =>
    relationAliases(sql, { startInFrom }).map((r) => `${r.relation} ${r.alias}`);

  it('reads a from clause: joins, commas after join conditions, as, schema names, bare tables', () => {
    expect(
      pairs(
        'comments c join tickets as k on k.id = c.ticket_id, params seed left join billing.invoices i on true, audit',
        true,
      ),
    ).toEqual(['comments c', 'tickets k', 'params seed', 'billing.invoices i', 'audit audit']);
  });

  it('reads from lists inside subqueries and stops at where/order by', () => {
    expect(
      pairs(
        'k.tenant_id = seed.tenant_id and exists (select 1 from comments c0 where c0.ticket_id = k.id) order by k.id',
      ),
    ).toEqual(['comments c0']);
    expect(pairs('select a, b from orders o where o.x in (select y from items) group by a')).toEqual([
      'orders o',
      'items items',
    ]);
  });

  it('skips subqueries, functions and non-FROM uses of the word from', () => {
    expect(pairs('(select 1) x, unnest(array[1]) u, lateral generate_series(1, 2) s', true)).toEqual([]);
    expect(pairs('extract(year from t.at) = 1 and a is distinct from b')).toEqual(['t.at at']);
  });
});
