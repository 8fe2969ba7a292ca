/**
 * A two-table app keyed by `account_id` (accounts ← events), used where a test needs a minimal real
 * schema and manifest rather than the teamdesk sample app: huge values, hostile subject values.
 */
export const accountsSchema = `
  create table accounts (account_id text primary key, name text not null);
  create table events (id bigint primary key, account_id text not null references accounts, body text not null);
`;

/** The manifest of that app, as raw JSON (write it to a file, or parse it with `manifestFrom`). */
export const accountsManifest = {
  appId: 'acct',
  adapter: 'postgres-subject-graph.v1',
  subjectKeys: ['account_id'],
  postgres: {
    tableOrder: ['accounts', 'events'],
    tables: [
      {
        name: 'accounts',
        alias: 'a',
        where: 'a.account_id in (select account_id from graph_keys)',
        deletePredicate: 't.account_id = g.account_id',
      },
      {
        name: 'events',
        alias: 'e',
        where: 'e.account_id in (select account_id from graph_keys)',
        orderBy: 'e.id',
        deletePredicate: 't.account_id = g.account_id',
      },
    ],
  },
};

/** Account `big` with one event whose body is 50 MiB (52,428,800 characters) of hex text. */
export const bigEventSql = `
  insert into accounts values ('big', 'Big');
  insert into events select 1, 'big', string_agg(md5(i::text), '') from generate_series(1, 1638400) i;
`;
