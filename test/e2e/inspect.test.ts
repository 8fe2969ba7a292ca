import { join } from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import {
  capsuleDir,
  genericCapsuleText,
  lineCapsuleText,
  type TestCapsule,
  writeCapsuleFile,
} from '../setup/capsules.js';
import { parseJsonOutput, repoRoot, runCli } from '../setup/cli.js';

const original = join(repoRoot, 'test/fixtures/original-tool/capsule.json');
const sample: TestCapsule = {
  extra: { redaction: 'safe', exportedAt: '2026-11-21T23:45:40Z' },
  graph: [
    { shop_id: 's1', customer_id: 'c1', reasons: ['subject'] },
    { shop_id: 's1', customer_id: 'c2', reasons: ['note_author', 'order_viewer'] },
    { shop_id: 's1', customer_id: 'c3', reasons: ['note_author'] },
  ],
  tables: { customers: [{ a: 1 }, { a: 2 }], orders: [], order_notes: [{ id: 1 }] },
};
let dir: string;
beforeAll(async () => {
  dir = await capsuleDir();
});

describe('inspect', () => {
  it("summarises the original tool's capsule as plain aligned text", async () => {
    const result = await runCli(['inspect', original]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('app:         shop (postgres-subject-graph.v1)');
    expect(result.stdout).toContain('subject:     shop_id=s1, customer_id=c1');
    expect(result.stdout).toContain('graph: 2 subject(s); by reason: subject=1, note_author=1');
    expect(result.stdout).toMatch(/^ {2}orders +3$/m);
    expect(result.stdout).toContain('integrity:   counts-only');
    expect(result.stdout).not.toContain('\u001b['); // no colour codes: pipe-friendly
  });

  it('--json gives one document with graph reasons, counts, integrity and file hash (gzip too)', async () => {
    const path = await writeCapsuleFile(dir, 'sample.json.gz', lineCapsuleText(sample), { gzip: true });
    const result = await runCli(['inspect', path, '--json']);
    expect(result.exitCode).toBe(0);
    const json = parseJsonOutput<Record<string, unknown>>(result.stdout);
    expect(json).toMatchObject({
      app: 'shop',
      layout: 'replay-env/rows-per-line/v1',
      compressed: true,
      redaction: 'safe',
      graph: { size: 3, reasons: { subject: 1, note_author: 2, order_viewer: 1 } },
      rowCounts: { customers: 2, orders: 0, order_notes: 1 },
      totalRows: 3,
      integrity: { status: 'verified', problems: [] },
    });
    expect((json.file as { sha256: string }).sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  const line = lineCapsuleText(sample);
  const generic = genericCapsuleText(sample);
  it.each([
    [
      'truncated (line layout)',
      line.slice(0, line.indexOf('"integrity"')),
      6,
      /^error: capsule .* is truncated/,
    ],
    ['truncated (generic)', generic.slice(0, generic.length / 2), 6, /^error: capsule .* truncated/],
    ['not JSON', 'hello', 6, /^error: capsule .* not valid JSON/],
    ['integrity failure', line.replace('{"a":2}', '{"a":3}'), 6, /^$/],
  ])('%s → exit %s with one clear line', async (name, content, exitCode, stderr) => {
    const path = await writeCapsuleFile(dir, `${name.replace(/\W+/g, '-')}.json`, content);
    const result = await runCli(['inspect', path]);
    expect(result.exitCode).toBe(exitCode);
    expect(result.stderr.trim()).toMatch(stderr);
    expect(result.stderr.trim().split('\n').length).toBe(1);
    if (name === 'integrity failure') {
      expect(result.stdout).toContain(
        'integrity:   failed: table "customers": sha256 of its rows does not match',
      );
    }
  });

  it('a missing file is one line and a non-zero exit', async () => {
    const result = await runCli(['inspect', join(dir, 'missing.json')]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr.trim()).toMatch(/^error: capsule .*missing\.json does not exist$/);
  });
});
