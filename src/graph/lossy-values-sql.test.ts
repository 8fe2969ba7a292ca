import { describe, expect, it } from 'vitest';

import { parseManifest } from '../manifest/index.js';
import { buildClosureRowsQuery, buildOwnRowsQuery } from './closure-sql.js';
import { buildLossyProbe, buildTableQuery } from './export-sql.js';
import { lossyPrefix } from './lossy-values-sql.js';

const columns = [
  { name: 'd', type: 'jsonb' },
  { name: 'j', type: 'json' },
  { name: 'a', type: 'jsonb[]' },
  { name: 'b', type: 'json[]' },
  { name: 'tags', type: 'array' },
] as const;

describe('lossy-value marks', () => {
  it('one test per column, numbered in order; no columns, no prefix', () => {
    const bounds = (c: string) => `strpos(replace(array_dims("t"."${c}"), '[1:', ''), '[') > 0`;
    expect(lossyPrefix('t', [])).toBeUndefined();
    expect(lossyPrefix('t', columns)).toBe(
      `coalesce(chr(4) || nullif(concat(` +
        `case when pg_column_size("t"."d") <= 12 and "t"."d" = 'null'::jsonb then '0,' end, ` +
        `case when json_typeof("t"."j") = 'null' then '1,' end, ` +
        `case when (${bounds('a')} or 'null'::jsonb = any("t"."a")) then '2,' end, ` +
        `case when (${bounds('b')} or exists (select from unnest("t"."b") as e where json_typeof(e) = 'null')) then '3,' end, ` +
        `case when ${bounds('tags')} then '4,' end` +
        `), ''), '')`,
    );
  });

  it('every row query puts the prefix before the row text, with or without redaction in SQL', () => {
    const manifest = parseManifest(
      JSON.stringify({
        appId: 'a',
        adapter: 'postgres-subject-graph.v1',
        subjectKeys: ['owner'],
        postgres: { tables: [{ name: 'docs', where: 'true' }] },
        redactionRules: [{ fields: ['email'], action: 'hash' }],
      }),
      { file: 'm.json', path: '/tmp/m.json', cwd: '/tmp' },
    );
    const table = manifest.postgres.tables[0]!;
    const prefix = lossyPrefix(table.alias, columns)!;
    const plain = buildTableQuery(manifest, table, { lossyColumns: columns }).text;
    expect(plain).toContain(`select ${prefix} || (\n/* tables[docs].rowSql */`);
    expect(buildTableQuery(manifest, table).text).not.toContain('chr(4)');
    const redacted = buildTableQuery(manifest, table, {
      lossyColumns: columns,
      redactionRules: manifest.redactionRules,
    }).text;
    expect(redacted).toContain('select s.n || case');
    expect(redacted).toContain('  select r, n, (r');
    expect(redacted).toContain(`::jsonb as r, ${prefix} as n\nfrom`);
    // The probe: every table's from/where with its tests, no row read, one statement.
    const probe = buildLossyProbe(
      manifest,
      [
        { table, columns },
        { table, columns },
      ],
      true,
    );
    expect(probe.split('\nunion all\n')).toHaveLength(2);
    expect(probe).toContain(`(select ${prefix}\nfrom\n/* tables[docs].from */`);
    expect(probe).toMatch(/limit 0\)$/);
    expect(buildLossyProbe(manifest, [{ table, columns }], false)).not.toContain('chr(4)');
    for (const text of [
      buildOwnRowsQuery(manifest, table, [], { lossyColumns: columns }).text,
      buildClosureRowsQuery(manifest, table, { columns: ['id'], types: ['text'] }, [], {
        lossyColumns: columns,
      }).text,
    ])
      expect(text).toContain(`select ${prefix} || (\n/* tables[docs].rowSql */`);
  });
});
