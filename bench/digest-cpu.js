#!/usr/bin/env node
// Node's CPU for value verification's client side alone (no database): reads a capsule's batches as the
// direct load does and, with `--mode digest`, adds every row to the table's value digest
// (src/materialize/verify-values.ts); `--mode read` only reads. The difference is the digest's cost.
// Capsules from `bench/run.js --keep-capsule`; `--build` is a checkout with dist/ (to compare builds,
// run it once per build, alternating).
//
//   node bench/digest-cpu.js --capsule /tmp/ab/realistic.json --mode digest [--build /path/to/checkout]
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    capsule: { type: 'string' },
    mode: { type: 'string', default: 'digest' },
    build: { type: 'string', default: '.' },
  },
});
const dist = resolve(args.build, 'dist');
const { openCapsule } = await import(`${dist}/capsule/index.js`);
const { SentDigest } = await import(`${dist}/materialize/verify-values.js`);
const digesting = args.mode === 'digest';
const reader = await openCapsule(args.capsule);
const started = process.cpuUsage();
let table;
let digest;
let rows = 0;
for await (const batch of reader.batches({ bytes: digesting })) {
  if (batch.table !== table) {
    table = batch.table;
    const keys = Object.keys(JSON.parse(batch.rows[0]));
    digest = new SentDigest({ columns: keys.map((name) => ({ name, generated: false })) });
  }
  if (digesting) {
    // Builds before addBatch added row by row.
    if (digest.addBatch) digest.addBatch(batch.rows, batch.rows, batch.bytes);
    else for (const row of batch.rows) digest.add(row);
  }
  rows += batch.rows.length;
}
const used = process.cpuUsage(started);
console.log(
  `${args.build} ${args.mode}: ${rows} rows, CPU ${((used.user + used.system) / 1e6).toFixed(2)} s`,
);
