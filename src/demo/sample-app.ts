import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

/** The package root (works from src/ under tests and from dist/ when installed). */
export const packageRoot = fileURLToPath(new URL('../..', import.meta.url));

/** The teamdesk sample app shipped in config/apps/: manifest, schema and history. */
export const sampleApp = {
  manifest: `${packageRoot}config/apps/teamdesk.yaml`,
  schema: `${packageRoot}config/apps/teamdesk/schema.sql`,
  seed: `${packageRoot}config/apps/teamdesk/seed.sql`,
  subject: { tenant_id: 'acme', user_id: 'ada' },
  prodEnv: 'TEAMDESK_PROD_DATABASE_URL',
  replayEnv: 'TEAMDESK_REPLAY_DATABASE_URL',
} as const;

export async function readSampleSql(): Promise<{ schema: string; seed: string }> {
  const [schema, seed] = await Promise.all([
    readFile(sampleApp.schema, 'utf8'),
    readFile(sampleApp.seed, 'utf8'),
  ]);
  return { schema, seed };
}

/**
 * What a developer's app does for the local identity after `--use-local-subject`: the queries the demo
 * sends through the recording proxy, and `run` replays as a session probe.
 */
export const sampleAppQueries: Array<{ sql: string; values?: unknown[] }> = [
  { sql: 'select display_name, roles from users where user_id = $1', values: ['dev-user'] },
  {
    sql: 'select id, subject, status, tags from tickets where requester_user_id = $1 order by created_at',
    values: ['dev-user'],
  },
  {
    sql: "select count(*) as comments from comments c join tickets k on k.id = c.ticket_id where k.requester_user_id = 'dev-user'",
  },
  { sql: 'select emoji, count(*) from reactions group by emoji order by emoji' },
];
