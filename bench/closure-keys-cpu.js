#!/usr/bin/env node
// Node's CPU in the passed-key path's key handling alone (docs/performance.md, issue #18), no database:
// the `parents` workload's pattern at --keys distinct parent keys (kids' order, unrelated to the keys),
// 200,000 keys in memory per set; a chunk of 10,000 keys is taken early after every 20,000 keys wanted
// (the early lane half as fast as the children stream), then the last drain (`takePending(…, true)`).
// Prints user + system CPU of the wants with their spills and of the whole, per build; with --against,
// the two builds alternate.
//
//   npm run build && node bench/closure-keys-cpu.js [--keys 500000] [--passes 3] [--against /tmp/old/dist]
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    keys: { type: 'string', default: '500000' },
    passes: { type: 'string', default: '3' },
    against: { type: 'string' },
  },
});
const here = fileURLToPath(new URL('../dist', import.meta.url));
const builds = [here, ...(args.against ? [resolve(args.against)] : [])];
const n = Number(args.keys);
const keys = [];
for (let i = 1; i <= n; i += 1) keys.push(Buffer.from(`__[${((i * 7) % n) + 1}]`));

async function pass(dist) {
  const { SpillDir, TargetKeys } = await import(`${dist}/export/target-keys.js`);
  const spill = new SpillDir();
  try {
    const set = new TargetKeys(spill, 200_000);
    const start = process.cpuUsage();
    let early = 0;
    let seen = 0;
    for (const key of keys) {
      set.want(key, 2, key.length);
      seen += 1;
      if (seen % 20_000 === 0 && set.pendingInMemory >= 10_000) early += set.takeChunk(10_000).length;
    }
    const wants = process.cpuUsage(start);
    let drained = 0;
    for await (const chunk of set.takePending(10_000, true)) {
      chunk.json();
      drained += chunk.length;
    }
    const all = process.cpuUsage(start);
    const ms = (usage) => ((usage.user + usage.system) / 1000).toFixed(0);
    console.log(
      `${dist}: wants ${ms(wants)} ms, all ${ms(all)} ms (${early} keys early, ${drained} drained)`,
    );
  } finally {
    spill.remove();
  }
}

for (let i = 0; i < Number(args.passes); i += 1) for (const dist of builds) await pass(dist);
