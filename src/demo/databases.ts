import { randomBytes } from 'node:crypto';

import type pg from 'pg';

import { withClient } from '../postgres/connect.js';
import { DatabaseUrl } from '../postgres/database-url.js';
import { quoteLiteral } from '../postgres/identifiers.js';
import { readSampleSql } from './sample-app.js';

export interface DemoDatabases {
  /** "Production": teamdesk schema and history, reached through a read-only role. */
  prodUrl: DatabaseUrl;
  /** The replay database: same schema, empty, owned by the replay role. */
  replayUrl: DatabaseUrl;
}

/**
 * Creates the demo's two databases on a fresh server: `teamdesk_prod` (schema + sample history, exported
 * through a read-only role, as production should be) and `teamdesk_replay` (schema only).
 */
export async function createDemoDatabases(adminUrl: DatabaseUrl): Promise<DemoDatabases> {
  const { schema, seed } = await readSampleSql();
  const readerPassword = randomBytes(12).toString('base64url');
  const replayPassword = randomBytes(12).toString('base64url');
  await withSql(adminUrl, async (client) => {
    await client.query(`create role teamdesk_reader login password ${quoteLiteral(readerPassword)}`);
    await client.query(`create role teamdesk_replay login password ${quoteLiteral(replayPassword)}`);
    await client.query('create database teamdesk_prod');
    await client.query('create database teamdesk_replay owner teamdesk_replay');
  });
  await withSql(adminUrl.withDatabase('teamdesk_prod'), async (client) => {
    await client.query(schema);
    await client.query(seed);
    await client.query('grant select on all tables in schema public to teamdesk_reader');
    // Belt and braces: even a manifest bug could not write through this role.
    await client.query('alter role teamdesk_reader set default_transaction_read_only = on');
  });
  const replayUrl = withCredentials(adminUrl, 'teamdesk_replay', replayPassword, 'teamdesk_replay');
  await withSql(replayUrl, (client) => client.query(schema).then(() => undefined));
  return {
    prodUrl: withCredentials(adminUrl, 'teamdesk_reader', readerPassword, 'teamdesk_prod'),
    replayUrl,
  };
}

/** The admin URL's server with another role and database; parsing registers the password for scrubbing. */
function withCredentials(
  adminUrl: DatabaseUrl,
  user: string,
  password: string,
  database: string,
): DatabaseUrl {
  const url = new URL(adminUrl.connectionString());
  url.username = user;
  url.password = password;
  url.pathname = `/${database}`;
  return DatabaseUrl.parse(url.toString());
}

async function withSql<T>(url: DatabaseUrl, work: (client: pg.Client) => Promise<T>): Promise<T> {
  return await withClient(url, { action: 'demo' }, work);
}
