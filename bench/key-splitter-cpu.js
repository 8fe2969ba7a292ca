#!/usr/bin/env node
// Node's CPU in the closure key splitter alone (docs/performance.md, tenth session, issue #18), no
// database: 500,000 rows shaped like the `parents` workload's kids (about 130 bytes of row JSON and one
// integer key column; `--keys 0`: none, as a table no key is collected from), in 64 KiB chunks as
// copy-out hands them over, each pass on fresh copies of the chunks (the splitter rewrites them in
// place). Prints user + system CPU per pass, per build; with --against, the two builds alternate.
//
//   npm run build && node bench/key-splitter-cpu.js [--rows 500000] [--passes 6] [--keys 0|1] [--against /tmp/old/dist]
import { resolve } from 'node:path';
import { Writable } from 'node:stream';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '500000' },
    passes: { type: 'string', default: '6' },
    keys: { type: 'string', default: '1' },
    against: { type: 'string' },
  },
});
const here = fileURLToPath(new URL('../dist', import.meta.url));
const builds = [here, ...(args.against ? [resolve(args.against)] : [])];
const n = Number(args.rows);
const keyColumns = Number(args.keys);
const lines = [];
for (let i = 1; i <= n; i += 1) {
  const parent = ((i * 7) % n) + 1;
  lines.push(
    `{"id": ${i}, "at": "2025-12-31T23:59:59+00:00", "note": "note 0123456789abcdef0123456789abcdef", ` +
      `"parent_id": ${parent}, "account_id": "acct-1"}${keyColumns ? `\x02[${parent}]` : ''}\n`,
  );
}
const all = Buffer.from(lines.join(''));
const splitters = await Promise.all(
  builds.map(async (dist) => (await import(`${dist}/export/key-splitter.js`)).KeySplitter),
);
const samples = builds.map(() => []);
for (let pass = 0; pass < Number(args.passes); pass += 1) {
  for (const [index, KeySplitter] of splitters.entries()) {
    const chunks = [];
    for (let at = 0; at < all.length; at += 1 << 16)
      chunks.push(Buffer.from(all.subarray(at, at + (1 << 16))));
    let keys = 0;
    const splitter = new KeySplitter(keyColumns, () => (keys += 1));
    const before = process.cpuUsage();
    await pipeline(
      Readable.from(chunks),
      splitter,
      new Writable({ write: (_chunk, _encoding, done) => done() }),
    );
    const used = process.cpuUsage(before);
    if (keys !== n * keyColumns || splitter.rows !== n)
      throw new Error(`expected ${n} rows and ${n * keyColumns} keys, got ${splitter.rows} and ${keys}`);
    samples[index].push((used.user + used.system) / 1000);
  }
}
for (const [index, dist] of builds.entries())
  console.log(`${dist}: ${samples[index].map((ms) => ms.toFixed(0)).join(', ')} ms per pass`);
