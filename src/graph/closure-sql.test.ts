import { describe, expect, it } from 'vitest';

import { parseManifest } from '../manifest/index.js';
import {
  buildClosureDirectQuery,
  buildClosureKeysSetting,
  buildClosureRowsQuery,
  buildOwnRowsQuery,
  exactCast,
  keyColumns,
  keysAsIntegerArray,
} from './closure-sql.js';

const manifest = parseManifest(
  JSON.stringify({
    appId: 'shop',
    adapter: 'postgres-subject-graph.v1',
    subjectKeys: ['customer_id'],
    postgres: {
      closure: 'parents',
      tables: [
        {
          name: 'order_lines',
          alias: 'l',
          where: 'exists (select 1 from graph_keys g where l.customer_id = g.customer_id::int)',
        },
        { name: 'plans', where: 'false' },
      ],
    },
  }),
  { file: 'm.json', path: '/tmp/m.json', cwd: '/tmp' },
);
const [lines, plans] = manifest.postgres.tables as [
  (typeof manifest.postgres.tables)[0],
  (typeof manifest.postgres.tables)[0],
];
const toPlans = {
  name: 'lines_plan_fk',
  child: 'order_lines',
  parent: 'plans',
  columns: ['tier', 'version'],
  referencedColumns: ['tier', 'version'],
  referencedTypes: ['text', 'integer'],
};

describe('closure SQL', () => {
  it('key columns: one json array text per foreign key, NULL when any column is NULL', () => {
    expect(keyColumns('l', [toPlans])).toEqual([
      `/* closure key lines_plan_fk */ '[' || to_json("l"."tier"::text)::text || ',' || case when "l"."version" between -2147483648 and 2147483647 then "l"."version"::text end || ']'`,
    ]);
  });

  it('key columns: number, boolean and date-time keys as to_json spells them, others as their text', () => {
    const types = [
      'numeric(14,4)',
      'timestamp with time zone',
      'boolean',
      'text[]',
      'pair',
      'jsonb',
      'uuid',
      'numeric[]',
      'timestamp with time zone[]',
    ];
    const fk = { ...toPlans, columns: types.map((_, i) => `c${i}`), referencedTypes: types };
    const parts = keyColumns('l', [fk])[0]!
      .replace(/ \|\| '\]'$/, '')
      .split(" || ',' || ");
    types.forEach((type, index) => {
      expect(parts[index]).toContain(`then "l"."c${index}"::${type} end`);
      // Numbers, booleans, date-times as to_json spells them (not through the session's DateStyle);
      // the others as their text: nested JSON read back by ->> would not cast to the type.
      if (index < 3) expect(parts[index]).toMatch(/ end\)::text$/);
      else expect(parts[index]).toMatch(/^to_json\(\(case when .* end\)::text\)::text$/);
    });
    expect(parts[0]).toMatch(/^\/\* closure key lines_plan_fk \*\/ '\[' \|\| to_json\(case when abs/);
  });

  it('key columns: a constraint name cannot end or open the label comment', () => {
    const hostile = { ...toPlans, name: 'fk */ select 1; /* x\n' };
    expect(keyColumns('l', [hostile])[0]).toMatch(/^\/\* closure key fk _ select 1; _ x_ \*\/ '\['/);
  });

  it('own rows: the table query with its key columns appended', () => {
    const text = buildOwnRowsQuery(manifest, lines, [toPlans], { graphSize: 2 }).text;
    expect(text).toContain(
      'select (\n/* tables[order_lines].rowSql */\nto_jsonb(l.*)\n)::jsonb::text,\n  /* closure key lines_plan_fk */',
    );
    expect(text).toContain('    generate_series(1, 2)\n  ) as g("customer_id", "replay graph row")\n)');
    expect(text).toMatch(/from\n\/\* tables\[order_lines\]\.from \*\/\n"order_lines" l\nwhere\n/);
  });

  it('closure rows by one unique column: the keys as one array the index walks, the same own-rows test', () => {
    const text = buildClosureRowsQuery(
      manifest,
      plans,
      { columns: ['code'], types: ['text'], unique: true },
      [],
    ).text;
    expect(text.slice(text.indexOf('replay_closure_keys as'))).toBe(
      [
        'replay_closure_keys as (',
        `  select (k.value->>0)::text as "code"`,
        `  from jsonb_array_elements(current_setting('replay.closure_keys')::jsonb) as k`,
        ')',
        'select (\n/* tables[plans].rowSql */\nto_jsonb(t.*)\n)::jsonb::text',
        'from "plans" as "t"',
        'cross join lateral (select "t"."code" as "code") as replay_closure_key',
        'where not exists (',
        '  select 1 from',
        '/* tables[plans].from */\n"plans" t',
        '  where (\n/* tables[plans].where */\nfalse\n) and ("t"."code") = (replay_closure_key."code")',
        ')',
        'and "t"."code" = any(array(select "code" from replay_closure_keys))',
        'order by "t"."code"',
      ].join('\n'),
    );
    // One integer column: the keys come as an integer array literal, no JSON relation to parse.
    const integer = { columns: ['id'], types: ['bigint'], unique: true };
    expect(keysAsIntegerArray(integer)).toBe(true);
    const byInteger = buildClosureRowsQuery(manifest, plans, integer, []).text;
    expect(byInteger).not.toContain('replay_closure_keys');
    expect(byInteger).toContain(')\n)\nselect (\n/* tables[plans].rowSql */'); // the with list ends at graph_keys
    expect(byInteger.slice(byInteger.indexOf('from "plans" as "t"'))).toBe(
      [
        'from "plans" as "t"',
        'cross join lateral (select "t"."id" as "id") as replay_closure_key',
        'where not exists (',
        '  select 1 from',
        '/* tables[plans].from */\n"plans" t',
        '  where (\n/* tables[plans].where */\nfalse\n) and ("t"."id") = (replay_closure_key."id")',
        ')',
        `and "t"."id" = any((select current_setting('replay.closure_keys'))::bigint[])`,
        'order by "t"."id"',
      ].join('\n'),
    );
    for (const other of [
      { columns: ['id'], types: ['bigint'] },
      { columns: ['id'], types: ['numeric'], unique: true },
      { columns: ['a', 'b'], types: ['integer', 'integer'], unique: true },
    ])
      expect(keysAsIntegerArray(other)).toBe(false);
    // An array-typed key: `= any(array(…))` would compare with the elements; the join.
    const byArrayKey = buildClosureRowsQuery(
      manifest,
      plans,
      { columns: ['tags'], types: ['text[]'], unique: true },
      [],
    ).text;
    expect(byArrayKey).toContain('join replay_closure_keys as replay_closure_key on ("t"."tags")');
    expect(byArrayKey).not.toContain('any(');
    // A table whose query selects other rows when run again: its own rows are left out by their keys.
    const byKeys = buildClosureRowsQuery(manifest, plans, integer, [], { ownRowsByKeys: true }).text;
    expect(byKeys.slice(byKeys.indexOf('from "plans" as "t"'))).toBe(
      [
        'from "plans" as "t"',
        `where "t"."id" = any((select current_setting('replay.closure_keys'))::bigint[])`,
        'order by "t"."id"',
      ].join('\n'),
    );
    const composite = { columns: ['tier', 'version'], types: ['text', 'integer'], unique: true };
    expect(buildClosureRowsQuery(manifest, plans, composite, [], { ownRowsByKeys: true }).text).not.toContain(
      'not exists',
    );
    // Not for a reference table's foreign key (not unique): its own rows reported no such keys.
    expect(
      buildClosureRowsQuery(manifest, plans, { columns: ['id'], types: ['bigint'] }, [], {
        ownRowsByKeys: true,
      }).text,
    ).toContain('not exists');
    // Not unique (a reference table's foreign key) or composite: the join, never an array scanned per row.
    const byFk = buildClosureRowsQuery(manifest, plans, { columns: ['id'], types: ['bigint'] }, []).text;
    expect(byFk).toContain(
      'join replay_closure_keys as replay_closure_key on ("t"."id") = (replay_closure_key."id")',
    );
    expect(byFk).not.toContain('any(');
  });

  it('closure rows: the keyed rows minus what the own where exports, keys cast to the column types', () => {
    const text = buildClosureRowsQuery(
      manifest,
      plans,
      { columns: ['tier', 'version'], types: ['text', 'integer'] },
      [],
    ).text;
    expect(text.slice(text.indexOf('replay_closure_keys as'))).toBe(
      [
        'replay_closure_keys as (',
        `  select (k.value->>0)::text as "tier", (k.value->>1)::integer as "version"`,
        `  from jsonb_array_elements(current_setting('replay.closure_keys')::jsonb) as k`,
        ')',
        'select (\n/* tables[plans].rowSql */\nto_jsonb(t.*)\n)::jsonb::text',
        'from "plans" as "t"',
        'join replay_closure_keys as replay_closure_key on ("t"."tier", "t"."version") = (replay_closure_key."tier", replay_closure_key."version")',
        'where not exists (',
        '  select 1 from',
        '/* tables[plans].from */\n"plans" t',
        '  where (\n/* tables[plans].where */\nfalse\n) and ("t"."tier", "t"."version") = (replay_closure_key."tier", replay_closure_key."version")',
        ')',
        'order by "t"."tier", "t"."version"',
      ].join('\n'),
    );
  });

  it('direct closure rows: the children’s queries give the keys, cast to the parent’s types', () => {
    const viaColumns = { ...toPlans, columns: ['plan_tier', 'plan_version'] };
    const text = buildClosureDirectQuery(
      manifest,
      plans,
      { columns: ['tier', 'version'], types: ['text', 'integer'] },
      [
        { table: lines, fk: viaColumns },
        { table: plans, fk: { ...viaColumns, child: 'plans' } },
      ],
      [],
    ).text;
    expect(text.slice(text.indexOf('replay_closure_keys as'))).toBe(
      [
        'replay_closure_keys as (',
        'select replay_closure_key.* from (',
        '    select "l"."plan_tier"::text as "tier", case when "l"."plan_version" between -2147483648 and 2147483647 then "l"."plan_version"::integer end as "version" from',
        '/* tables[order_lines].from */\n"order_lines" l',
        '    where\n/* tables[order_lines].where */',
        'exists (select 1 from graph_keys g where l.customer_id = g.customer_id::int)',
        '    union all',
        '    select "t"."plan_tier"::text as "tier", case when "t"."plan_version" between -2147483648 and 2147483647 then "t"."plan_version"::integer end as "version" from',
        '/* tables[plans].from */\n"plans" t',
        '    where\n/* tables[plans].where */\nfalse',
        ') as replay_closure_key',
        'except',
        'select "t"."tier", "t"."version" from',
        '/* tables[plans].from */\n"plans" t',
        '  where\n/* tables[plans].where */\nfalse',
        ')',
        'select (\n/* tables[plans].rowSql */\nto_jsonb(t.*)\n)::jsonb::text',
        'from "plans" as "t"',
        'where ("t"."tier", "t"."version") in (select "tier", "version" from replay_closure_keys)',
        'order by "t"."tier", "t"."version"',
      ].join('\n'),
    );
  });

  it('direct closure rows through a child closure completes: its own keys, and those of the rows its one query adds', () => {
    // plans ← order_lines ← (order_lines' plain child, here plans' own table standing in for it)
    const viaColumns = { ...toPlans, columns: ['plan_tier', 'plan_version'] };
    const toLines = {
      ...toPlans,
      child: 'plans',
      parent: 'order_lines',
      columns: ['line'],
      referencedColumns: ['id'],
      referencedTypes: ['bigint'],
    };
    const text = buildClosureDirectQuery(
      manifest,
      plans,
      { columns: ['tier', 'version'], types: ['text', 'integer'] },
      [
        {
          table: lines,
          fk: viaColumns,
          through: {
            target: { columns: ['id'], types: ['bigint'] },
            children: [{ table: plans, fk: toLines }],
          },
        },
      ],
      [],
    ).text;
    const picks =
      'select "l"."plan_tier"::text as "tier", case when "l"."plan_version" between -2147483648 and 2147483647 then "l"."plan_version"::integer end as "version"';
    expect(text.slice(text.indexOf('replay_closure_keys as'), text.indexOf('except'))).toBe(
      [
        'replay_closure_keys as (',
        'select replay_closure_key.* from (',
        `    ${picks} from`,
        '/* tables[order_lines].from */\n"order_lines" l',
        '    where\n/* tables[order_lines].where */',
        'exists (select 1 from graph_keys g where l.customer_id = g.customer_id::int)',
        '    union all',
        `    ${picks} from "order_lines" as "l"`,
        '    where ("l"."id") in (',
        '    select "id" from (',
        '    select "t"."line"::bigint as "id" from',
        '/* tables[plans].from */\n"plans" t',
        '    where\n/* tables[plans].where */\nfalse',
        '    ) as replay_closure_key',
        '    )',
        ') as replay_closure_key',
        '',
      ].join('\n'),
    );
  });

  it('direct closure rows: child keys are compared in the parent column’s collation', () => {
    const viaColumns = {
      ...toPlans,
      columns: ['plan_tier', 'plan_version'],
      referencedCollations: ['pg_catalog."C"', null],
    };
    const text = buildClosureDirectQuery(
      manifest,
      plans,
      { columns: ['tier', 'version'], types: ['text', 'integer'] },
      [{ table: lines, fk: viaColumns }],
      [],
    ).text;
    expect(text).toContain('select "l"."plan_tier"::text collate pg_catalog."C" as "tier", case when');
    expect(text).toContain('then "l"."plan_version"::integer end as "version" from');
  });

  it('keys travel as one JSON array parameter, or one integer array literal', () => {
    const keys = { json: () => Buffer.from('[[1],["a", 2]]'), integerArray: () => Buffer.from('{1,2}') };
    expect(buildClosureKeysSetting(keys)).toEqual({
      text: "select set_config('replay.closure_keys', $1, true) is null",
      values: [Buffer.from('[[1],["a", 2]]')],
    });
    expect(buildClosureKeysSetting(keys, true).values).toEqual([Buffer.from('{1,2}')]);
  });

  it('a cast that could truncate or round keeps the key only when it changes nothing', () => {
    expect(exactCast('o."code"', 'character varying(3)')).toBe(
      'case when o."code"::character varying(3) = o."code" then o."code"::character varying(3) end',
    );
    // character(n) as the foreign key compares it: without trailing blanks ('ab ' is the parent 'ab')
    expect(exactCast('o."code"', 'character(3)')).toBe(
      'case when o."code"::character(3) = o."code"::bpchar then o."code"::character(3) end',
    );
    expect(exactCast('o."n"', 'numeric(6,2)')).toContain('o."n"::numeric(6,2) = o."n"');
    // A value beyond the type's range is tested before the cast, which would fail (closure-cast-overflow.test.ts).
    expect(exactCast('o."n"', 'numeric(6,2)')).toMatch(
      /^case when abs\(o\."n"\) <= 999999e-2 or o\."n" = 'NaN' then case when/,
    );
    expect(exactCast('o."n"', 'numeric(3,-2)')).toContain('abs(o."n") <= 999e2 ');
    expect(exactCast('o."id"', 'integer')).toBe(
      'case when o."id" between -2147483648 and 2147483647 then o."id"::integer end',
    );
    expect(exactCast('o."id"', 'bigint')).toBe('o."id"::bigint');
    // Floats: in range first, then as the foreign key compares (a float child as it is, others cast).
    expect(exactCast('o."r"', 'real')).toBe(
      `case when abs(o."r") <= 3.4028234663852886e38 or (o."r")::text in ('NaN', 'Infinity', '-Infinity') then case when pg_typeof(o."r") not in ('real'::regtype, 'double precision'::regtype) or o."r"::real = o."r" then o."r"::real end end`,
    );
    expect(exactCast('o."name"', 'text')).toBe('o."name"::text');
  });
});
