#!/usr/bin/env node
// Node CPU of reading COPY TO STDOUT (issue #16): the export's reader (src/export/copy-out.ts) against
// pg-copy-streams' copyTo, on the same query and connection, alternating, each into a Writable that only
// counts bytes. CPU (process.cpuUsage, user + system) is what the machine's load distorts least.
//
//   npm run build && node bench/copy-out-cpu.js [--rows 300000] [--runs 5]
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';

import pg from 'pg';
import copyStreams from 'pg-copy-streams';

import { copyOut } from '../dist/export/copy-out.js';
import { startEmbeddedPostgres } from '../dist/postgres/embedded.js';

const { values: args } = parseArgs({
  options: { rows: { type: 'string', default: '300000' }, runs: { type: 'string', default: '5' } },
});
// Rows shaped like the export's: one jsonb text per row, ~420 bytes on average.
const sql = `copy (select jsonb_build_object('id', i, 'note', repeat('n', i % 400), 'tags', jsonb_build_array('a', i))::text
  from generate_series(1, ${Number(args.rows)}) i) to stdout`;
const server = await startEmbeddedPostgres({ settings: { fsync: 'off' } });
const client = new pg.Client({ connectionString: server.adminUrl.connectionString() });
await client.connect();
const counting = () => {
  let bytes = 0;
  return {
    stream: new Writable({
      highWaterMark: 1 << 16,
      write(chunk, _encoding, callback) {
        bytes += chunk.length;
        callback();
      },
    }),
    bytes: () => bytes,
  };
};
const readers = {
  'copy-out.ts': (sink) => copyOut(client, sql, sink),
  'pg-copy-streams': (sink) => pipeline(client.query(copyStreams.to(sql)), sink),
};
const cpu = { 'copy-out.ts': [], 'pg-copy-streams': [] };
for (let run = 0; run <= Number(args.runs); run++) {
  for (const [name, read] of Object.entries(readers)) {
    const sink = counting();
    const before = process.cpuUsage();
    await read(sink.stream);
    const used = process.cpuUsage(before);
    if (run > 0) cpu[name].push((used.user + used.system) / 1000); // run 0 warms up
    if (run === 1) process.stdout.write(`${name}: ${(sink.bytes() / 1e6).toFixed(1)} MB\n`);
  }
}
for (const [name, ms] of Object.entries(cpu)) {
  ms.sort((a, b) => a - b);
  process.stdout.write(
    `${name.padEnd(16)} CPU ms: median ${ms[ms.length >> 1].toFixed(0)}, all ${ms.map((v) => v.toFixed(0)).join(' ')}\n`,
  );
}
await client.end();
await server.stop();
