// Peak RSS of a closure export whose parent key set has N distinct keys, with and without spilling.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, rmSync } from 'node:fs';
import pg from 'pg';
import { startEmbeddedPostgres } from './dist/postgres/embedded.js';
const n = Number(process.argv[2] ?? 2000000);
const server = await startEmbeddedPostgres({ settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' } });
try {
  const admin = new pg.Client({ connectionString: server.adminUrl.connectionString() });
  await admin.connect(); await admin.query('create database rss'); await admin.end();
  const url = server.adminUrl.withDatabase('rss');
  const c = new pg.Client({ connectionString: url.connectionString() }); await c.connect();
  console.log('seeding'); await c.query(`create table parents (id bigint primary key, code text not null);
    create table children (id bigint primary key, owner text not null, parent_id bigint references parents);
    insert into parents select i, 'p' || i from generate_series(1, ${n}) i;
    insert into children select i, 'o1', i from generate_series(1, ${n}) i;`); await c.query('analyze');
  await c.end();
  writeFileSync('/tmp/closure-prof/rss.json', JSON.stringify({ appId: 'rss', adapter: 'postgres-subject-graph.v1', subjectKeys: ['owner'],
    postgres: { prodDatabaseUrlEnv: 'RSS_URL', closure: 'parents', tables: [
      { name: 'children', where: 't.owner = (select owner from params)' }, { name: 'parents', where: 'false' }] } }));
  for (const limit of process.argv.slice(3)) {
    const t = Date.now(); try {
    const out = execFileSync(process.execPath, ['--import', '/work/wt/closure/bench/rss-probe.js', '/work/wt/closure/bin/run.js', 'export-postgres', '--app', '/tmp/closure-prof/rss.json', '--subject', 'owner=o1', '--since-days', '36500', '--out', `/tmp/closure-prof/rss-${limit}.json`, '--redaction', 'raw', '--json'],
      { env: { ...process.env, RSS_URL: url.connectionString(), REPLAY_ENV_CLOSURE_KEYS_IN_MEMORY: limit, REPLAY_ENV_BENCH_RSS_FILE: '/tmp/closure-prof/rss-peak' }, maxBuffer: 1 << 26 });
    const r = JSON.parse(out);
    console.log(`keys in memory ${limit}: rows ${JSON.stringify(r.rowCounts)} added ${JSON.stringify(r.closureRows)} peak RSS ${(Number(readFileSync('/tmp/closure-prof/rss-peak', 'utf8')) / 1024).toFixed(0)} MB, ${((Date.now() - t) / 1000).toFixed(1)} s`);
    rmSync(`/tmp/closure-prof/rss-${limit}.json`, { force: true }); } catch (e) { console.log('FAILED', String(e.stderr ?? e).slice(0, 2000)); }
  }
} finally { await server.stop(); }
