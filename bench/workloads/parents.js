// Workload "parents" (issue #18): parent closure that really adds rows. Every in-scope `kids` row (half the
// rows in scope) references its own `parents` row, in an order unrelated to the parents' keys; `parents`
// has no `where` of its own under `--closure` (closure brings every referenced row: as many parent keys as
// kids), and a hand-written `id in (select parent_id …)` without it. Out of scope: another account's kids
// and the 20 % more parents only they reference. The raw baseline copies the same final rows.
const tables = ['kids', 'parents'];

const schema = `
create table parents (id bigint primary key, name text not null, payload jsonb not null);
create table kids (id bigint primary key, account_id text not null, parent_id bigint not null references parents,
  note text not null, at timestamptz not null);
create index on kids (account_id);
`;

const inScopeParents = `x.id in (select k.parent_id from kids k where k.account_id = 'acct-1')`;

const scopes = {
  kids: { from: `kids x where x.account_id = 'acct-1'`, orderBy: 'x.id' },
  parents: { from: `parents x where ${inScopeParents}`, orderBy: 'x.id' },
};

function manifest({ closure = false } = {}) {
  return {
    appId: 'bench-parents',
    adapter: 'postgres-subject-graph.v1',
    subjectKeys: ['account_id'],
    postgres: {
      prodDatabaseUrlEnv: 'BENCH_PROD_DATABASE_URL',
      replayDatabaseUrlEnv: 'BENCH_REPLAY_DATABASE_URL',
      graphEdges: [],
      tableOrder: ['parents', 'kids'],
      ...(closure ? { closure: 'parents' } : {}),
      tables: [
        {
          name: 'kids',
          alias: 'x',
          from: 'kids x join graph_keys g on g.account_id = x.account_id',
          orderBy: 'x.id',
          deletePredicate: 't.account_id = g.account_id',
        },
        {
          name: 'parents',
          alias: 'x',
          from: 'parents x',
          where: closure
            ? 'false'
            : 'x.id in (select k.parent_id from kids k join graph_keys g on g.account_id = k.account_id)',
          orderBy: 'x.id',
          deletePredicate: 't.id in (select k.parent_id from kids k where k.account_id = g.account_id)',
        },
      ],
    },
    redactionRules: [],
  };
}

async function seed(client, n) {
  const kids = Math.floor(n / 2);
  const parents = n - kids;
  const others = Math.floor(parents * 0.2);
  await client.query(schema);
  await client.query(
    `insert into parents select i, 'parent ' || i, jsonb_build_object('n', i, 'tag', md5(i::text))
     from generate_series(1, $1) i`,
    [parents + others],
  );
  // Kid i references parent (i * 7 mod parents) + 1: every parent once (7 is prime to parents unless it divides it).
  const step = parents % 7 === 0 ? 11 : 7;
  await client.query(
    `insert into kids select i, 'acct-1', ((i::bigint * ${step}) % $2) + 1, 'note ' || md5(i::text),
       timestamptz '2026-01-01' - (i || ' seconds')::interval
     from generate_series(1, $1) i`,
    [kids, parents],
  );
  await client.query(
    `insert into kids select $1 + i, 'acct-2', $2 + i, 'other', now() from generate_series(1, $3) i`,
    [kids, parents, others],
  );
  await client.query('vacuum analyze');
  return { kids, parents };
}

export const parents = {
  name: 'parents',
  tables,
  schema,
  manifest,
  seed,
  scopeSql: (table) => scopes[table],
  graphKeysSql: `select 'acct-1' as account_id`,
  subject: ['account_id=acct-1'],
};
