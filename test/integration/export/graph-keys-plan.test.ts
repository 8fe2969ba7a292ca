import pg from 'pg';
import { describe, expect } from 'vitest';

import { buildSessionSettings, buildTableQuery, settingsCtes } from '../../../src/graph/export-sql.js';
import { dbTest, type TestDatabase } from '../../setup/database.js';
import { manifestFrom } from './helpers.js';

// The plans the export's table queries get from the real planner, now that graph_keys carries its size
// without a LIMIT (settingsCtes): index lookups for one small subject of a big shared table, and
// parallel plans where a subject owns the table (as raw COPY of the same rows gets).
const manifest = manifestFrom({
  appId: 'plans',
  adapter: 'postgres-subject-graph.v1',
  subjectKeys: ['account_id'],
  postgres: {
    graphEdges: [],
    tables: [
      {
        name: 'events',
        alias: 'e',
        from: 'events e join graph_keys g on g.account_id = e.account_id',
        orderBy: 'e.id',
      },
    ],
  },
});
const events = manifest.postgres.tables[0]!;

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Workers Planned'?: number;
  'Workers Launched'?: number;
  'Temp Written Blocks'?: number;
  'Actual Rows'?: number;
  'Plan Rows'?: number;
  Plans?: PlanNode[];
}

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

/** EXPLAIN (format json, plus `options`) of `sql` with the graph handed over as the export does. */
async function explain(
  db: TestDatabase,
  accounts: string[],
  sql: string,
  options: { analyze?: boolean; parallel?: boolean } = {},
): Promise<PlanNode> {
  const client = new pg.Client({ connectionString: db.url.connectionString() });
  await client.connect();
  try {
    await client.query('begin isolation level repeatable read, read only');
    const settings = buildSessionSettings(
      { account_id: accounts[0], since_at: '2000-01-01T00:00:00+00:00' },
      accounts.map((account_id) => ({ account_id })),
    );
    await client.query(settings.text, settings.values);
    if (options.parallel) {
      // Parallel plans made as cheap as serial ones, so the test does not depend on table size or costs.
      for (const setting of [
        'parallel_setup_cost',
        'parallel_tuple_cost',
        'min_parallel_table_scan_size',
        'min_parallel_index_scan_size',
      ])
        await client.query(`set local ${setting} = 0`);
    }
    const analyze = options.analyze ? ', analyze, buffers' : '';
    const { rows } = await client.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
      `explain (format json${analyze}) ${sql}`,
    );
    await client.query('rollback');
    return rows[0]!['QUERY PLAN'][0].Plan;
  } finally {
    await client.end();
  }
}

describe('the planner and graph_keys', () => {
  dbTest(
    'one subject (or three) of a 200,000-row table shared by 1,000 accounts: index lookups, no spill',
    async ({ db }) => {
      await db.query(`create table events (id bigint primary key, account_id text not null, payload jsonb not null);
        create index on events (account_id);
        insert into events select i, 'acct-' || (i % 1000), jsonb_build_object('n', i, 'text', md5(i::text))
          from generate_series(1, 200000) i;
        analyze events;`);
      // Each account's 200 rows are spread over 200 of the table's ~2,900 pages (a dozen accounts would
      // rightly be read by a sequential scan). Before graph_keys had its size, 100 keys were assumed.
      for (const accounts of [['acct-7'], ['acct-7', 'acct-500', 'acct-999']]) {
        const sql = buildTableQuery(manifest, events, { graphSize: accounts.length }).text;
        const plan = await explain(db, accounts, sql, { analyze: true });
        const all = nodes(plan);
        expect(
          all.filter((node) => node['Relation Name'] === 'events').map((node) => node['Node Type']),
        ).not.toContain('Seq Scan');
        expect(all.reduce((sum, node) => sum + (node['Temp Written Blocks'] ?? 0), 0)).toBe(0);
        expect(plan['Actual Rows']).toBe(200 * accounts.length);
      }
    },
  );

  dbTest(
    'one subject owning a whole table: a parallel plan is possible (none with a limit on graph_keys)',
    async ({ db }) => {
      await db.query(`create table events (id bigint primary key, account_id text not null, payload jsonb not null);
        create index on events (account_id);
        insert into events select i, 'acct-1', jsonb_build_object('n', i) from generate_series(1, 50000) i;
        insert into events select 100000 + i, 'acct-2', '{}' from generate_series(1, 10000) i;
        analyze events;`);
      const sql = buildTableQuery(manifest, events, { graphSize: 1 }).text;
      const workers = (plan: PlanNode) => nodes(plan).map((node) => node['Workers Planned'] ?? 0);
      expect(Math.max(...workers(await explain(db, ['acct-1'], sql, { parallel: true })))).toBeGreaterThan(0);
      // Control: the same query with the graph_keys the export had before (jsonb_to_recordset … limit 1)
      // plans no worker at all: PostgreSQL runs no subquery with a LIMIT in a parallel worker.
      const limited = sql.replace(
        /graph_keys as \(\n[\s\S]*?\n\)\nselect/,
        `graph_keys as (select g.account_id from jsonb_to_recordset(current_setting('replay.graph_keys')::jsonb) as g(account_id text) limit 1)\nselect`,
      );
      expect(limited).not.toBe(sql);
      expect(Math.max(...workers(await explain(db, ['acct-1'], limited, { parallel: true })))).toBe(0);
      // Run in parallel for real, the workers read the transaction's settings: every row, none twice.
      let launched = 0;
      for (let attempt = 0; attempt < 5 && launched === 0; attempt++) {
        const plan = await explain(db, ['acct-1'], sql, { parallel: true, analyze: true });
        expect(plan['Actual Rows']).toBe(50000);
        launched = Math.max(...nodes(plan).map((node) => node['Workers Launched'] ?? 0));
      }
      expect(launched).toBeGreaterThan(0);
    },
  );

  dbTest("the planner's estimate for graph_keys is the graph's size; without a size, 10", async ({ db }) => {
    for (const size of [1, 5, 12, 300, undefined]) {
      const accounts = Array.from({ length: size ?? 50 }, (_, i) => `acct-${i}`);
      const plan = await explain(
        db,
        accounts,
        `${settingsCtes(['account_id'], size)}\nselect * from graph_keys`,
      );
      // One key tuple is one row of scalar subqueries, no function (settingsCtes).
      expect([plan['Node Type'], plan['Plan Rows']]).toEqual([
        size === 1 ? 'Result' : 'Function Scan',
        size ?? 10,
      ]);
    }
  });

  dbTest(
    "one key tuple: the table is filtered on the keys' values, the plan of a written-out key; no join",
    async ({ db }) => {
      await db.query(`create table events (id bigint primary key, account_id text not null, payload jsonb not null);
        insert into events select i, 'acct-' || (i % 3), '{}' from generate_series(1, 30000) i;
        analyze events;`);
      const sql = buildTableQuery(manifest, events, { graphSize: 1 }).text;
      const plan = await explain(db, ['acct-1'], sql, { analyze: true });
      const types = nodes(plan).map((node) => node['Node Type']);
      // With graph_keys as a one-row `rows from (…)`: a join (a Hash Join here; on bigger tables a
      // Nested Loop that rescans the Function Scan for each of the table's rows).
      expect(types).not.toContain('Nested Loop');
      expect(types).not.toContain('Function Scan');
      expect(plan['Actual Rows']).toBe(10000);
      const literal = sql.replace(
        /graph_keys as \(\n[\s\S]*?\n\)\nselect/,
        `graph_keys as (select 'acct-1'::text as account_id)\nselect`,
      );
      expect(literal).not.toBe(sql);
      const literalPlan = await explain(db, ['acct-1'], literal, { analyze: true });
      const scans = (node: PlanNode) =>
        nodes(node)
          .filter((each) => each['Relation Name'])
          .map((each) => each['Node Type']);
      expect(scans(plan)).toEqual(scans(literalPlan));
    },
  );

  dbTest('graph_keys gives back exactly the keys handed over, hostile ones included', async ({ db }) => {
    const hostile = [
      `it's`,
      'back\\slash',
      'a,b',
      '{a,b}',
      '"quoted"',
      'NULL',
      'null',
      ' padded ',
      'ü 🚀 ∑',
      'line\nbreak\ttab',
      '\\x00',
      '[1]',
      "');drop table events;--",
    ];
    const client = new pg.Client({ connectionString: db.url.connectionString() });
    await client.connect();
    try {
      // Sizes on both sides of the written-out arrays (below 10 keys), none, and no size given; key names
      // in mixed case and one named like settingsCtes' own aliases.
      for (const count of [0, 1, 2, 9, 10, hostile.length, 40]) {
        const keys = Array.from({ length: count }, (_, i) => ({
          OrgId: hostile[i % hostile.length]!,
          k: `${hostile[(i * 7 + 3) % hostile.length]!}#${i}`,
        }));
        for (const size of [count, undefined]) {
          await client.query('begin');
          const settings = buildSessionSettings({ OrgId: 'x', k: 'y', since_at: null }, keys);
          await client.query(settings.text, settings.values);
          const { rows } = await client.query(
            `${settingsCtes(['OrgId', 'k'], size)}\nselect "OrgId", k from graph_keys`,
          );
          await client.query('rollback');
          expect(rows).toEqual(keys);
        }
      }
    } finally {
      await client.end();
    }
  });
});
