#!/usr/bin/env node
// Node's CPU per row in the export's framing + redaction (docs/performance.md, issue #16), independent
// of machine load: captures each table's COPY output once (the export's own queries, in its read-only
// transaction), then feeds it in 64 KiB chunks through frameRows with the table's redactor, best of N
// passes per table. With --against <other build's dist>, the two builds alternate and their capsule
// bytes and sha256-rows-v1 hashes are compared (byte-identical or it says DIFF).
//
//   npm run build && BENCH_PROD_DATABASE_URL=postgres://… node bench/frame-cpu.js --app manifest.json \
//     --subject org_id=org-1 --subject user_id=1 [--passes 7] [--redaction raw] [--against /tmp/old/dist]
//
// A manifest and a seeded source database: e.g. bench/workloads/realistic.js's (bench/run.js seeds one).
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import pg from 'pg';
import copyStreams from 'pg-copy-streams';

const { values: args } = parseArgs({
  options: {
    app: { type: 'string' },
    subject: { type: 'string', multiple: true, default: [] },
    passes: { type: 'string', default: '5' },
    redaction: { type: 'string', default: 'safe' },
    against: { type: 'string' },
  },
});
const own = fileURLToPath(new URL('../dist', import.meta.url));
const load = async (dist) => ({
  frameRows: (await import(join(dist, 'capsule/row-lines.js'))).frameRows,
  createRowRedactor: (await import(join(dist, 'redaction/index.js'))).createRowRedactor,
});
const builds = [['this build', await load(own)]];
if (args.against) builds.unshift(['--against', await load(resolve(args.against))]);

const { DatabaseUrl } = await import(join(own, 'postgres/database-url.js'));
const { loadManifest } = await import(join(own, 'manifest/index.js'));
const { applySessionSettings, beginExportTransaction, readGraph } = await import(
  join(own, 'export/snapshot.js')
);
const { buildTableQuery, wrapInCopy } = await import(join(own, 'graph/export-sql.js'));

const manifest = await loadManifest(args.app);
const subject = Object.fromEntries(
  args.subject.map((s) => [s.slice(0, s.indexOf('=')), s.slice(s.indexOf('=') + 1)]),
);
const url = DatabaseUrl.parse(process.env[manifest.postgres.prodDatabaseUrlEnv]);
const dir = await mkdtemp(join(tmpdir(), 'replay-env-frame-cpu-'));
try {
  const client = new pg.Client({ connectionString: url.connectionString() });
  await client.connect();
  await beginExportTransaction(client, url);
  const graph = await readGraph(client, url, manifest, subject, 36500);
  await applySessionSettings(client, url, manifest, subject, graph);
  for (const table of manifest.postgres.tables) {
    const sql = wrapInCopy(buildTableQuery(manifest, table, { graphSize: graph.entries.length })).text;
    await pipeline(client.query(copyStreams.to(sql)), createWriteStream(join(dir, `${table.name}.copy`)));
  }
  await client.end();

  process.stdout.write(
    `table            rows      MB  ${builds.map(([name]) => name.padStart(12)).join('')}  (CPU ms, best of ${args.passes})\n`,
  );
  for (const table of manifest.postgres.tables) {
    const data = await readFile(join(dir, `${table.name}.copy`));
    const chunks = [];
    for (let at = 0; at < data.length; at += 1 << 16)
      chunks.push(Buffer.from(data.subarray(at, at + (1 << 16))));
    const best = builds.map(() => Infinity);
    const digests = builds.map(() => '');
    let rows = 0;
    for (let pass = 0; pass < Number(args.passes); pass++) {
      builds.forEach(([, build], index) => {
        const state = {
          table: table.name,
          rows: 0,
          remainder: undefined,
          hash: createHash('sha256'),
          redactor:
            args.redaction === 'safe'
              ? build.createRowRedactor(manifest.redactionRules, table.name)
              : undefined,
        };
        const bytes = createHash('sha256');
        const start = process.cpuUsage();
        for (const chunk of chunks) bytes.update(build.frameRows(state, chunk));
        const used = process.cpuUsage(start);
        best[index] = Math.min(best[index], (used.user + used.system) / 1000);
        digests[index] = `${state.hash.digest('hex')}/${bytes.digest('hex')}`;
        rows = state.rows;
      });
    }
    const same = digests.every((digest) => digest === digests[0]) ? '' : '  DIFF (bytes or hashes differ)';
    process.stdout.write(
      `${table.name.padEnd(14)}${String(rows).padStart(8)}${(data.length / 1e6).toFixed(1).padStart(8)}  ${best.map((ms) => ms.toFixed(0).padStart(12)).join('')}${same}\n`,
    );
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
