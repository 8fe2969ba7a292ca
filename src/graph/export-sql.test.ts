import { describe, expect, it } from 'vitest';

import { type ParsedTable, parseManifest } from '../manifest/index.js';
import {
  buildGraphQuery,
  buildPieceSample,
  buildSessionSettings,
  buildTableCopy,
  buildTableQuery,
  pieceCondition,
  wrapInCopy,
} from './export-sql.js';

const manifest = parseManifest(
  JSON.stringify({
    appId: 'shop',
    adapter: 'postgres-subject-graph.v1',
    subjectKeys: ['shop_id', 'customer_id'],
    postgres: {
      graphEdges: [
        "select n.shop_id, n.author_customer_id as customer_id, 'note_author'::text as reason from order_notes n, params seed where n.shop_id = seed.shop_id",
        "select shop_id, customer_id, 'same_shop' as reason from customers, params seed where shop_id = seed.shop_id",
      ],
      tables: [
        { name: 'customers' },
        {
          name: 'orders',
          alias: 'o',
          from: 'orders o join graph_keys g using (shop_id, customer_id)',
          where: 'o.placed_at >= (select since_at from params)',
          orderBy: 'o.id',
          rowSql: "to_jsonb(o) - 'internal'",
        },
      ],
    },
  }),
  { file: 'shop.json', path: '/tmp/shop.json', cwd: '/tmp' },
);

describe('buildGraphQuery', () => {
  it('unions the subject with each labelled edge; subject values and days only as parameters', () => {
    const query = buildGraphQuery(manifest, { shop_id: "s1'; drop table x; --", customer_id: 'c1' }, 30);
    expect(query.values).toEqual(["s1'; drop table x; --", 'c1', 30]);
    expect(query.text).not.toContain('drop table');
    expect(query.text).toMatchInlineSnapshot(`
      "with params as (
        select $1::text as "shop_id", $2::text as "customer_id", now() - make_interval(days => $3::int) as since_at
      ),
      edge_0 as (
      /* graphEdges[0] */
      select n.shop_id, n.author_customer_id as customer_id, 'note_author'::text as reason from order_notes n, params seed where n.shop_id = seed.shop_id
      ),
      edge_1 as (
      /* graphEdges[1] */
      select shop_id, customer_id, 'same_shop' as reason from customers, params seed where shop_id = seed.shop_id
      ),
      /* graph */
      edges as (
        select "shop_id", "customer_id", 'subject'::text as reason from params
        union all
        /* graphEdges[0] columns */
        select e."shop_id"::text, e."customer_id"::text, e.reason::text from edge_0 as e("shop_id", "customer_id", reason)
        union all
        /* graphEdges[1] columns */
        select e."shop_id"::text, e."customer_id"::text, e.reason::text from edge_1 as e("shop_id", "customer_id", reason)
      )
      select "shop_id", "customer_id",
             array_remove(array_agg(distinct reason order by reason), null) as reasons,
             (select to_jsonb(since_at) #>> '{}' from params) as since_at,
             to_jsonb(now()) #>> '{}' as exported_at
      from edges
      where coalesce("shop_id", '') <> '' and coalesce("customer_id", '') <> ''
      group by "shop_id", "customer_id"
      order by "shop_id", "customer_id""
    `);
  });

  it('without edges the graph is the subject alone', () => {
    const bare = { ...manifest, postgres: { ...manifest.postgres, graphEdges: [] } };
    expect(buildGraphQuery(bare, { shop_id: 's', customer_id: 'c' }, 180).text).not.toContain('union all');
  });
});

describe('buildTableQuery / buildTableCopy', () => {
  it('reads params and graph_keys from the session settings and labels every snippet', () => {
    expect(buildTableQuery(manifest, manifest.postgres.tables[1]!).text).toMatchInlineSnapshot(`
      "with params as (
        select p."shop_id", p."customer_id", p.since_at
        from jsonb_to_record(current_setting('replay.params')::jsonb) as p("shop_id" text, "customer_id" text, since_at timestamptz)
      ),
      graph_keys as (
        select g."shop_id", g."customer_id"
        from rows from (
          unnest(array(select e.k ->> 'shop_id' from jsonb_array_elements(current_setting('replay.graph_keys')::jsonb) with ordinality as e(k, i) order by e.i)),
          unnest(array(select e.k ->> 'customer_id' from jsonb_array_elements(current_setting('replay.graph_keys')::jsonb) with ordinality as e(k, i) order by e.i))
        ) as g("shop_id", "customer_id")
      )
      select (
      /* tables[orders].rowSql */
      to_jsonb(o) - 'internal'
      )::jsonb::text
      from
      /* tables[orders].from */
      orders o join graph_keys g using (shop_id, customer_id)
      where
      /* tables[orders].where */
      o.placed_at >= (select since_at from params)
      order by
      /* tables[orders].orderBy */
      o.id"
    `);
  });

  it('applies the defaults (from "<name> <alias>", rowSql to_jsonb(alias.*)) and omits absent clauses', () => {
    const text = buildTableQuery(manifest, manifest.postgres.tables[0]!).text;
    expect(text).toContain('/* tables[customers].rowSql */\nto_jsonb(t.*)\n)::jsonb::text');
    expect(text).toContain('/* tables[customers].from */\n"customers" t');
    // The table's own clauses: what follows the CTEs (graph_keys orders its keys by their position).
    const own = text.slice(text.indexOf('select (\n/* tables[customers].rowSql */'));
    expect(own).not.toContain('where');
    expect(own).not.toContain('order by');
  });

  it('tells the planner how many graph keys there are, when known, without a limit', () => {
    const orders = manifest.postgres.tables[1]!;
    const many = buildTableQuery(manifest, orders, { graphSize: 25 }).text;
    expect(many).toContain(
      `  from rows from (\n    unnest(array(select e.k ->> 'shop_id' from jsonb_array_elements(current_setting('replay.graph_keys')::jsonb) with ordinality as e(k, i) order by e.i)),\n`,
    );
    expect(many).toContain(
      `    generate_series(1, 25)\n  ) as g("shop_id", "customer_id", "replay graph row")\n)`,
    );
    // Below 10 keys the arrays are written out, so that unnest's estimate is their length.
    expect(buildTableQuery(manifest, orders, { graphSize: 2 }).text).toContain(
      `    unnest(array[(current_setting('replay.graph_keys')::jsonb -> 0) ->> 'customer_id', (current_setting('replay.graph_keys')::jsonb -> 1) ->> 'customer_id']::text[]),\n    generate_series(1, 2)\n`,
    );
    expect(buildTableQuery(manifest, orders, { graphSize: 0 }).text).toContain(`unnest(array[]::text[])`);
    // One key tuple: one row of scalar subqueries, which the planner turns into a filter on the table.
    expect(buildTableQuery(manifest, orders, { graphSize: 1 }).text).toContain(
      `graph_keys as (\n  select (select (current_setting('replay.graph_keys')::jsonb -> 0) ->> 'shop_id') as "shop_id", (select (current_setting('replay.graph_keys')::jsonb -> 0) ->> 'customer_id') as "customer_id"\n)`,
    );
    for (const size of [undefined, 0, 1, 2, 25]) {
      expect(buildTableQuery(manifest, orders, { graphSize: size }).text).not.toMatch(/\blimit\b/);
    }
    expect(buildTableQuery(manifest, orders).text).not.toContain('generate_series');
  });

  it('reads one piece of the table: its where kept whole, then the range of its first order term', () => {
    const [customers, orders] = manifest.postgres.tables as [ParsedTable, ParsedTable];
    const operators = { lessThan: 'operator(pg_catalog.<)', atLeast: 'operator(pg_catalog.>=)' };
    const piece = { expression: 'o.id', type: 'bigint', operators, from: "1'0", below: '2\\0' };
    const own = (table: ParsedTable, options = {}) => {
      const text = buildTableQuery(manifest, table, options).text;
      return text.slice(text.indexOf('\nfrom\n'));
    };
    expect(own(orders, { piece })).toBe(
      [
        '\nfrom\n/* tables[orders].from */\norders o join graph_keys g using (shop_id, customer_id)',
        'where (\n/* tables[orders].where */\no.placed_at >= (select since_at from params)\n)',
        "and /* tables[orders]: one piece of its order */ o.id operator(pg_catalog.>=) '1''0'::bigint and o.id operator(pg_catalog.<) E'2\\\\0'::bigint",
        'order by\n/* tables[orders].orderBy */\no.id',
      ].join('\n'),
    );
    expect(own(customers, { piece: { expression: 't.id', type: 'text', operators, from: 'm' } })).toBe(
      `\nfrom\n/* tables[customers].from */\n"customers" t\nwhere /* tables[customers]: one piece of its order */ t.id operator(pg_catalog.>=) 'm'::text`,
    );
    expect(pieceCondition({ expression: 'e.id', type: 'int', operators })).toBe('true');
  });

  it('samples a table for its pieces: tablesample after the first from item, the own where, its order', () => {
    const orders = manifest.postgres.tables[1]!;
    const text = buildPieceSample(manifest, orders, {
      expression: 'o.id',
      fromItemEnd: 8,
      percent: 2.5,
      graphSize: 3,
    });
    expect(text.slice(text.indexOf('select (o.id)'))).toBe(
      [
        'select (o.id)::text as value',
        'from\n/* tables[orders].from, sampled */\norders o tablesample system (2.5) repeatable (0) join graph_keys g using (shop_id, customer_id)',
        'where\n/* tables[orders].where */\no.placed_at >= (select since_at from params)',
        'order by o.id',
        'limit 100000',
      ].join('\n'),
    );
    expect(text).toContain('generate_series(1, 3)');
  });

  it('wraps in a binary COPY (text columns sent verbatim)', () => {
    expect(wrapInCopy({ text: 'select 1' }).text).toBe('copy (\nselect 1\n) to stdout with (format binary)');
    expect(buildTableCopy(manifest, manifest.postgres.tables[0]!).text).toBe(
      wrapInCopy(buildTableQuery(manifest, manifest.postgres.tables[0]!)).text,
    );
  });
});

describe('buildSessionSettings', () => {
  it('passes params and graph keys as JSON text parameters, local to the transaction', () => {
    const statement = buildSessionSettings(
      { shop_id: 's1', customer_id: 'c1', since_at: '2026-01-01T00:00:00+00:00' },
      [{ shop_id: 's1', customer_id: 'c1' }],
    );
    expect(statement).toMatchInlineSnapshot(`
      {
        "text": "select set_config('replay.params', $1, true), set_config('replay.graph_keys', $2, true)",
        "values": [
          "{"shop_id":"s1","customer_id":"c1","since_at":"2026-01-01T00:00:00+00:00"}",
          "[{"shop_id":"s1","customer_id":"c1"}]",
        ],
      }
    `);
  });
});
