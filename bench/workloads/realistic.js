// Workload "realistic" (issue #16): shaped like a real app's manifest rather than a friendly one.
// - composite-key subject (org_id, user_id) and a graph edge (the users assigned to the subject's tickets),
//   so graph_keys holds ~20 key tuples;
// - tickets (20 % of rows) reached through graph_keys, with a `hash` rule on requester_email, a column
//   present in every row;
// - ticket_events (40 %) reached by joining graph_keys THROUGH their parent ticket; 5 % of their payloads
//   carry a nested `token` that the global recursive `empty` rule must blank;
// - audit_log (30 %): a top-level `ip` column (null rule) in every row, and a nested `client.ip` in 10 % of
//   the context documents;
// - documents (5 %): a wide jsonb column (~2 KB per row) that no rule touches;
// - users (the graph's ~20 rows, hashed email, a nested api_key in the profile) and orgs (1 row);
// plus out-of-scope rows (another org, same org's other users) that the queries must skip.
const tables = ['orgs', 'users', 'tickets', 'ticket_events', 'audit_log', 'documents'];
const graphUsers = 20;

const schema = `
create table orgs (org_id text primary key, name text not null, settings jsonb not null);
create table users (org_id text not null references orgs, user_id bigint not null, email text not null,
  profile jsonb not null, created_at timestamptz not null, primary key (org_id, user_id));
create table tickets (id bigint primary key, org_id text not null, requester_id bigint not null, assignee_id bigint,
  requester_email text not null, subject text not null, status text not null, fields jsonb not null,
  amount numeric(12,2), created_at timestamptz not null, foreign key (org_id, requester_id) references users);
create index on tickets (org_id, requester_id); create index on tickets (org_id, assignee_id);
create table ticket_events (id bigint primary key, ticket_id bigint not null references tickets, kind text not null,
  payload jsonb not null, at timestamptz not null);
create index on ticket_events (ticket_id);
create table audit_log (id bigint primary key, org_id text not null, user_id bigint not null, action text not null,
  ip text, context jsonb not null, at timestamptz not null, foreign key (org_id, user_id) references users);
create index on audit_log (org_id, user_id);
create table documents (id bigint primary key, org_id text not null, owner_id bigint not null, title text not null,
  body jsonb not null, updated_at timestamptz not null, foreign key (org_id, owner_id) references users);
create index on documents (org_id, owner_id);
`;

/** A table whose rows belong to one graph user through (org_id, `userColumn`), in id order. */
const viaGraph = (table, userColumn, orderBy = 'x.id') => ({
  from: `${table} x join graph_keys g on g.org_id = x.org_id and x.${userColumn} = g.user_id::bigint`,
  orderBy,
});

/** How each table reaches the graph (alias x), shared by the manifest and the raw baseline. */
const scopes = {
  orgs: { from: `orgs x where x.org_id in (select org_id from graph_keys)`, orderBy: 'x.org_id' },
  users: viaGraph('users', 'user_id', 'x.org_id, x.user_id'),
  tickets: viaGraph('tickets', 'requester_id'),
  ticket_events: {
    from: `ticket_events x join tickets p on p.id = x.ticket_id
      join graph_keys g on g.org_id = p.org_id and p.requester_id = g.user_id::bigint`,
    orderBy: 'x.id',
  },
  audit_log: viaGraph('audit_log', 'user_id'),
  documents: viaGraph('documents', 'owner_id'),
};

const deletePredicates = {
  orgs: 't.org_id = g.org_id',
  users: 't.org_id = g.org_id and t.user_id = g.user_id::bigint',
  tickets: 't.org_id = g.org_id and t.requester_id = g.user_id::bigint',
  ticket_events: `t.ticket_id in (select p.id from tickets p where p.org_id = g.org_id and p.requester_id = g.user_id::bigint)`,
  audit_log: 't.org_id = g.org_id and t.user_id = g.user_id::bigint',
  documents: 't.org_id = g.org_id and t.owner_id = g.user_id::bigint',
};

/** `closure`: every foreign key is followed (parents closure); with all parents in scope it measures its cost. */
function manifest({ closure = false } = {}) {
  return {
    appId: 'bench-realistic',
    adapter: 'postgres-subject-graph.v1',
    subjectKeys: ['org_id', 'user_id'],
    postgres: {
      prodDatabaseUrlEnv: 'BENCH_PROD_DATABASE_URL',
      replayDatabaseUrlEnv: 'BENCH_REPLAY_DATABASE_URL',
      graphEdges: [
        `select t.org_id, t.assignee_id::text, 'assignee' from tickets t, params seed
         where t.org_id = seed.org_id and t.requester_id = seed.user_id::bigint and t.assignee_id is not null`,
      ],
      tableOrder: tables,
      ...(closure ? { closure: 'parents' } : {}),
      tables: tables.map((name) => ({
        name,
        alias: 'x',
        from: scopes[name].from,
        orderBy: scopes[name].orderBy,
        deletePredicate: deletePredicates[name],
      })),
    },
    redactionRules: [
      { table: 'users', fields: ['email'], action: 'hash', prefix: 'user-' },
      { table: 'tickets', fields: ['requester_email'], action: 'hash', prefix: 'mail-' },
      { fields: ['token', 'api_key'], action: 'empty' },
      { fields: ['ip'], action: 'null' },
    ],
  };
}

async function seed(client, n) {
  const tickets = Math.floor(n * 0.2);
  const events = Math.floor(n * 0.4);
  const audit = Math.floor(n * 0.3);
  const documents = n - tickets - events - audit - graphUsers - 1;
  await client.query(schema);
  await client.query(
    `insert into orgs values ('org-1', 'Acme', '{"plan":"enterprise","sso":{"api_key":"org-secret"}}'),
                             ('org-2', 'Other', '{}')`,
  );
  // Users 1..20 are the graph (1 = subject, 2..20 = assignees of its tickets); 21..40 are out of scope.
  await client.query(
    `insert into users select o, i, 'user' || i || '@' || o || '.example.com',
       jsonb_build_object('name', 'User ' || i, 'prefs', jsonb_build_object('api_key', 'k-' || md5(i::text), 'tz', 'Europe/Paris')),
       timestamptz '2025-01-01' + (i || ' days')::interval
     from unnest(array['org-1', 'org-2']) o, generate_series(1, ${graphUsers * 2}) i`,
  );
  // In scope: tickets of users 1..20 (round robin); out of scope: 20 % more for users 21..40 and org-2.
  await client.query(
    `insert into tickets select i, case when i <= $1 then 'org-1' else (array['org-1','org-2'])[1 + i % 2] end,
       case when i <= $1 then 1 + i % ${graphUsers} else ${graphUsers + 1} + i % ${graphUsers} end,
       2 + i % ${graphUsers - 1}, 'requester' || (i % 997) || '@customer.example.com',
       'Ticket "' || i || '" — ça ne marche pas', (array['open','pending','solved'])[1 + i % 3],
       jsonb_build_object('priority', i % 4, 'tags', jsonb_build_array('t' || i % 9, 'vip'), 'custom', jsonb_build_object('sla_hours', 24, 'ref', md5(i::text))),
       (i % 100000) / 100.0, timestamptz '2026-01-01' - (i || ' minutes')::interval
     from generate_series(1, $1 + $1 / 5) i`,
    [tickets],
  );
  await client.query(
    `insert into ticket_events select i, 1 + i % $2, (array['comment','status','assign'])[1 + i % 3],
       case when i % 20 = 0
         then jsonb_build_object('via', 'api', 'auth', jsonb_build_object('token', 'tok-' || md5(i::text), 'scope', 'write'), 'n', i)
         else jsonb_build_object('via', 'web', 'text', E'Hello \\\\ "world" ü 🚀 ' || md5(i::text), 'n', i) end,
       timestamptz '2026-01-01' - (i || ' seconds')::interval
     from generate_series(1, $1) i`,
    [events, tickets],
  );
  await client.query(
    `insert into audit_log select i, 'org-1', 1 + i % ${graphUsers}, 'action_' || (i % 17),
       case when i % 7 = 0 then null else '192.0.2.' || (i % 250) end,
       case when i % 10 = 0
         then jsonb_build_object('client', jsonb_build_object('ip', '198.51.100.' || (i % 250), 'agent', 'Mozilla/5.0'), 'req', md5(i::text))
         else jsonb_build_object('req', md5(i::text), 'ok', true) end,
       timestamptz '2026-01-01' - (i || ' seconds')::interval
     from generate_series(1, $1) i`,
    [audit],
  );
  await client.query(
    `insert into documents select i, 'org-1', 1 + i % ${graphUsers}, 'Doc ' || i,
       jsonb_build_object('version', i % 5, 'blocks', (select jsonb_agg(jsonb_build_object('type', 'p', 'text',
         repeat(md5((i * 31 + b)::text), 1) || ' lorem ipsum dolor sit amet, « consectetur » adipiscing elit')) from generate_series(1, 16) b)),
       timestamptz '2026-01-01' - (i || ' hours')::interval
     from generate_series(1, $1) i`,
    [documents],
  );
  await client.query('vacuum analyze');
  return { orgs: 1, users: graphUsers, tickets, ticket_events: events, audit_log: audit, documents };
}

/** The in-scope rows of `table` (alias x), in the export's order: what raw COPY moves. */
function scopeSql(table) {
  return scopes[table];
}

/** The graph's key tuples, computed directly (untimed) for the raw baseline's graph_keys. */
const graphKeysSql = `select 'org-1' as org_id, '1' as user_id
  union select distinct org_id, assignee_id::text from tickets where org_id = 'org-1' and requester_id = 1`;

export const realistic = {
  name: 'realistic',
  tables,
  schema,
  manifest,
  seed,
  scopeSql,
  graphKeysSql,
  subject: ['org_id=org-1', 'user_id=1'],
};
