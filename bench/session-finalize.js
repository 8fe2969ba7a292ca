#!/usr/bin/env node
// Time to finalise one big session journal into its .json file (docs/sessions.md), and the file's size.
//   npm run build && node bench/session-finalize.js --results 4000
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { finalizeJournal } from '../dist/session/session-journal.js';

const { values: args } = parseArgs({ options: { results: { type: 'string', default: '4000' } } });
const results = Number(args.results);
const dir = await mkdtemp(join(tmpdir(), 'bench-finalize-'));
try {
  const journal = join(dir, 'big_2025-01-01_00-00-00.json.journal');
  const row = Array.from({ length: 6 }, (_, index) => `value ${index} `.repeat(4));
  const lines = [];
  for (let number = 1; number <= results; number += 1) {
    const at = new Date(1_735_689_600_000 + number).toISOString();
    const query = { query_number: number, sql: 'select …' };
    lines.push(JSON.stringify({ type: 'query', timestamp: at, data: query }));
    const rows = Array.from({ length: 250 }, () => row);
    const data = { query_number: number, columns: ['a', 'b', 'c', 'd', 'e', 'f'], rows, row_count: 250 };
    lines.push(JSON.stringify({ type: 'query_result', timestamp: at, data: { ...data, error: null } }));
  }
  await writeFile(journal, `${lines.join('\n')}\n`);
  const journalBytes = (await stat(journal)).size;
  const started = performance.now();
  const file = await finalizeJournal(journal);
  const seconds = (performance.now() - started) / 1000;
  const mb = (bytes) => (bytes / 1e6).toFixed(0);
  console.log(
    `finalised ${results} results of 250 rows: journal ${mb(journalBytes)} MB → session file ${mb((await stat(file)).size)} MB in ${seconds.toFixed(1)} s`,
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}
