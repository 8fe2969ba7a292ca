// Workload "simple" (the first benchmark): one account in scope, a plain `account_id` filter on every table,
// one `hash` rule on members.email. Every row carries the redacted email in members (5 % of rows), so every
// member row is redacted; events (70 %) and comments (25 %) have no rule.
const tables = ['accounts', 'members', 'events', 'comments'];
const primaryKeys = { accounts: 'account_id', members: 'member_id', events: 'id', comments: 'id' };

const schema = `
create table accounts (account_id text primary key, name text not null, settings jsonb not null);
create table members (account_id text not null references accounts, member_id bigint not null, email text not null,
  roles text[] not null, profile jsonb not null, joined_at timestamptz not null, primary key (account_id, member_id));
create table events (id bigint primary key, account_id text not null references accounts, member_id bigint not null,
  kind text not null, payload jsonb not null, tags text[] not null, amount numeric(12,2), at timestamptz not null);
create table comments (id bigint primary key, event_id bigint not null references events, account_id text not null,
  body text not null, created_at timestamptz not null);
create index on events (account_id); create index on comments (account_id); create index on members (account_id);
`;

/** `closure`: every foreign key is followed (parents closure); with all parents in scope it measures its cost. */
function manifest({ closure = false } = {}) {
  const table = (name, alias) => ({
    name,
    alias,
    from: `${name} ${alias} join graph_keys g on g.account_id = ${alias}.account_id`,
    orderBy: `${alias}.${primaryKeys[name]}`,
    deletePredicate: 't.account_id = g.account_id',
  });
  return {
    appId: 'bench',
    adapter: 'postgres-subject-graph.v1',
    subjectKeys: ['account_id'],
    postgres: {
      prodDatabaseUrlEnv: 'BENCH_PROD_DATABASE_URL',
      replayDatabaseUrlEnv: 'BENCH_REPLAY_DATABASE_URL',
      graphEdges: [],
      tableOrder: tables,
      ...(closure ? { closure: 'parents' } : {}),
      tables: [table('accounts', 'a'), table('members', 'm'), table('events', 'e'), table('comments', 'c')],
    },
    redactionRules: [{ table: 'members', fields: ['email'], action: 'hash', prefix: 'member-' }],
  };
}

async function seed(client, n) {
  const members = Math.max(1, Math.floor(n * 0.05));
  const events = Math.floor(n * 0.7);
  const comments = n - members - events - 1;
  await client.query(schema);
  await client.query(
    `insert into accounts values ('acct-1', 'Bench Co', '{"plan":"pro"}'), ('acct-2', 'Other', '{}')`,
  );
  await client.query(
    `insert into members select 'acct-1', i, 'member' || i || '@example.com', array['agent', 'role "' || (i % 7) || '"'],
       jsonb_build_object('bio', E'line1\\nline2\\t' || i, 'prefs', jsonb_build_object('theme', 'dark', 'n', i)),
       timestamptz '2026-01-01' - (i || ' minutes')::interval from generate_series(1, $1) i`,
    [members],
  );
  await client.query(
    `insert into events select i, 'acct-1', 1 + i % $2, 'kind_' || (i % 13),
       jsonb_build_object('i', i, 'text', 'some "quoted" text ü ' || md5(i::text), 'nested', jsonb_build_object('a', array[i, i + 1], 'ok', i % 2 = 0)),
       array['t' || (i % 5), 'tag,with,commas'], (i % 10000) / 100.0, timestamptz '2026-01-01' - (i || ' seconds')::interval
     from generate_series(1, $1) i`,
    [events, members],
  );
  await client.query(
    `insert into comments select i, 1 + i % $2, 'acct-1', 'comment ' || i || E' with \\\\ backslash and emoji 🚀 ' || md5(i::text),
       timestamptz '2026-01-01' from generate_series(1, $1) i`,
    [comments, events],
  );
  await client.query(
    `insert into events select 100000000 + i, 'acct-2', 1, 'x', '{}', '{}', 0, now() from generate_series(1, $1) i`,
    [Math.floor(n * 0.2)],
  );
  await client.query('vacuum analyze');
  return { accounts: 1, members, events, comments };
}

/** The in-scope rows of `table` (alias x), in the export's order: what raw COPY moves. */
function scopeSql(table) {
  return { from: `${table} x where x.account_id = 'acct-1'`, orderBy: `x.${primaryKeys[table]}` };
}

export const simple = {
  name: 'simple',
  tables,
  schema,
  manifest,
  seed,
  scopeSql,
  graphKeysSql: `select 'acct-1' as account_id`,
  subject: ['account_id=acct-1'],
};
