import { describe, expect, it } from 'vitest';

import { canonicalJson } from './canonical.js';
import { diffEvidence } from './diff.js';
import { formatDiff } from './format-diff.js';
import { applyIgnore, compileIgnore } from './ignore.js';
import type { GoldenEvidence } from './normalise.js';
import { formatPath, ignoredBy, parsePattern } from './path.js';

const evidence = (body: unknown, rows: unknown[][] = [['1', '2026-12-01']]): GoldenEvidence => ({
  gate: 'continue',
  materialized: { users: 2 },
  commands: { build: { kind: 'command', outcome: 'pass', exitCode: 0 } },
  probes: {
    'ticket-api': { kind: 'http', outcome: 'pass', status: 200, headers: { 'x-request-id': 'a' }, body },
    counts: { kind: 'sql', outcome: 'pass', columns: ['n', 'at'], rows },
  },
});

describe('diffEvidence', () => {
  it('names where, the path, the golden and the new value', () => {
    const { diffs, total } = diffEvidence(
      evidence({ ticket: { status: 'open', tags: ['a'] } }),
      evidence({ ticket: { status: 'closed', tags: ['a', 'b'] } }),
    );
    expect(total).toBe(2);
    expect(diffs).toEqual([
      {
        where: 'probe ticket-api',
        path: 'probes.ticket-api.body.ticket.status',
        golden: 'open',
        actual: 'closed',
      },
      { where: 'probe ticket-api', path: 'probes.ticket-api.body.ticket.tags[1]', actual: 'b' },
    ]);
    expect(formatDiff(diffs[0]!)).toBe(
      'probe ticket-api: probes.ticket-api.body.ticket.status: "open" → "closed"',
    );
    expect(formatDiff(diffs[1]!)).toBe(
      'probe ticket-api: probes.ticket-api.body.ticket.tags[1]: (absent) → "b"',
    );
  });

  it('reports tables, commands and the gate by name', () => {
    const before = evidence({});
    const after = structuredClone(before);
    after.materialized = { users: 3 };
    after.commands.build = { kind: 'command', outcome: 'fail', exitCode: 1 };
    after.gate = 'block';
    const wheres = diffEvidence(before, after).diffs.map((diff) => `${diff.where} @ ${diff.path}`);
    expect(wheres).toEqual([
      'command build @ commands.build.exitCode',
      'command build @ commands.build.outcome',
      'gate @ gate',
      'table users @ materialized.users',
    ]);
  });

  it('ignores paths (with * and **), columns, headers and patterns on both sides', () => {
    const ignore = compileIgnore(
      {
        paths: ['probes.*.body.**.requestId'],
        columns: ['at'],
        headers: ['X-Request-Id'],
        patterns: ['\\d{4}-\\d{2}-\\d{2}T[0-9:.]+Z'],
      },
      'scenario s',
    );
    const golden = evidence({
      requestId: 'r1',
      nested: { requestId: 'r2', at: 'seen 2026-12-01T10:00:00.000Z' },
    });
    const now = evidence(
      { requestId: 'r9', nested: { requestId: 'r8', at: 'seen 2026-12-02T11:11:11.111Z' } },
      [['1', '2027-01-01']],
    );
    now.probes['ticket-api']!.headers = { 'x-request-id': 'b' };
    expect(diffEvidence(applyIgnore(golden, ignore), applyIgnore(now, ignore), ignore.paths).total).toBe(0);
    // Without the rules, every volatile value is a difference.
    expect(diffEvidence(golden, now).total).toBe(5);
  });

  it('caps the list but counts every difference', () => {
    const many = (value: number) => evidence(Array.from({ length: 500 }, () => value));
    const { diffs, total } = diffEvidence(many(1), many(2));
    expect(total).toBe(500);
    expect(diffs).toHaveLength(200);
  });
});

describe('paths and ignore rules', () => {
  it('formats and parses paths', () => {
    expect(formatPath(['probes', 'a.b', 'body', 0, 'id'])).toBe('probes["a.b"].body[0].id');
    expect(parsePattern('probes["a.b"].body[0].id')).toEqual(['probes', 'a.b', 'body', '0', 'id']);
    expect(parsePattern('probes.*.body[*]')).toEqual(['probes', '*', 'body', '*']);
    for (const bad of ['', '.a', 'a..b', 'a[', 'a b']) expect(parsePattern(bad)).toBeUndefined();
  });

  it('an ignored node hides what is below it; ** matches zero or more segments', () => {
    const patterns = [parsePattern('probes.x.body')!, parsePattern('**.updatedAt')!];
    expect(ignoredBy(['probes', 'x', 'body', 'deep', 0], patterns)).toBe(true);
    expect(ignoredBy(['updatedAt'], patterns)).toBe(true);
    expect(ignoredBy(['probes', 'y', 'body', 'updatedAt'], patterns)).toBe(true);
    expect(ignoredBy(['probes', 'y', 'body', 'createdAt'], patterns)).toBe(false);
  });

  it('bad rules are one-line usage errors naming the scenario', () => {
    expect(() => compileIgnore({ patterns: ['('] }, 'scenario s')).toThrow(
      /^scenario s: ignore pattern "\("/,
    );
    expect(() => compileIgnore({ paths: ['a..b'] }, 'scenario s')).toThrow(
      'scenario s: ignore path "a..b" is not a path',
    );
  });
});

describe('canonicalJson', () => {
  it('sorts keys at every depth and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: undefined } })).toBe(
      '{\n  "a": {\n    "d": [\n      3,\n      {\n        "y": 2,\n        "z": 1\n      }\n    ]\n  },\n  "b": 1\n}\n',
    );
  });
});
