// temporary profiling harness (not committed)
import { execFileSync } from 'node:child_process';
import { writeFileSync, mkdirSync } from 'node:fs';
import pg from 'pg';
import { startEmbeddedPostgres } from '../dist/postgres/embedded.js';
import { realistic } from './workloads/realistic.js';
const n = Number(process.argv[2] ?? 200000);
const server = await startEmbeddedPostgres({ settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' } });
try {
  const admin = new pg.Client({ connectionString: server.adminUrl.connectionString() });
  await admin.connect(); await admin.query('create database prof'); await admin.end();
  const url = server.adminUrl.withDatabase('prof');
  const c = new pg.Client({ connectionString: url.connectionString() }); await c.connect();
  await realistic.seed(c, n); await c.end();
  for (const closure of [false, true]) writeFileSync(`/tmp/closure-prof/m-${closure}.json`, JSON.stringify(realistic.manifest({ closure })));
  const env = { ...process.env, BENCH_PROD_DATABASE_URL: url.connectionString() };
  for (let rep = 0; rep < Number(process.argv[3] ?? 2); rep++)
    for (const closure of [false, true]) {
      const dir = `/tmp/closure-prof/prof-${closure}`; mkdirSync(dir, { recursive: true });
      const t = Date.now();
      const out = execFileSync(process.execPath, ['--cpu-prof', '--cpu-prof-dir', dir, 'bin/run.js', 'export-postgres', '--app', `/tmp/closure-prof/m-${closure}.json`, '--subject', 'org_id=org-1', '--subject', 'user_id=1', '--since-days', '36500', '--out', `/tmp/closure-prof/c-${closure}-${rep}.json`, '--json', '--profile'], { env, maxBuffer: 1 << 26 });
      const phases = JSON.parse(out).phases;
      console.log(closure ? 'closure' : 'plain  ', ((Date.now() - t) / 1000).toFixed(2), 's', JSON.stringify(phases));
    }
} finally { await server.stop(); }
