import { describe, expect, it } from 'vitest';

import type { ParsedRedactionRule } from '../manifest/index.js';
import { buildSqlRedaction } from './redaction-sql.js';

const rule = (partial: Partial<ParsedRedactionRule> & Pick<ParsedRedactionRule, 'fields' | 'action'>) =>
  ({ prefix: 'replay-', recursive: true, ...partial }) as ParsedRedactionRule;

describe('buildSqlRedaction', () => {
  it('patches top-level fields, hashes strings with sha256, leaves non-strings and nested keys to JS', () => {
    const sql = buildSqlRedaction(
      [
        rule({
          table: 'tickets',
          fields: ['requester_email'],
          action: 'hash',
          prefix: 'mail-',
          recursive: false,
        }),
        rule({ fields: ['token'], action: 'empty' }),
        rule({ fields: ['token'], action: 'hash' }),
      ],
      'tickets',
      'select to_jsonb(x) as r from tickets x order by x.id',
    );
    expect(sql?.text).toMatchInlineSnapshot(`
      "/* redaction of tickets (top-level fields in SQL; rows marked chr(3) are redacted by replay-env) */
      select case
          when s.r is null or jsonb_typeof(s.r) <> 'object' then s.r::text
          when (coalesce(jsonb_typeof(s.r->'requester_email') not in ('string', 'null'), false))
            or (strpos(s.t, '"token"') > 0 and (not (s.r ? 'token') or strpos(substr(s.t, strpos(s.t, '"token"') + 7), '"token"') > 0)) then chr(3) || s.r::text
          else s.t
        end
      from (
        select r, (r
          || case when r->'requester_email' not in ('null'::jsonb, '""'::jsonb) then jsonb_build_object('requester_email', to_jsonb(('mail-' || left(encode(sha256(convert_to((r->>'requester_email'), 'UTF8')), 'hex'), 12)))) else '{}' end
          || case when r->'token' not in ('null'::jsonb, '""'::jsonb) then jsonb_build_object('token', '""'::jsonb) else '{}' end)::text as t
        from (
      select to_jsonb(x) as r from tickets x order by x.id
        ) as redaction_source
        offset 0
      ) as s"
    `);
  });

  it('folds a chain after a constant with the JS actions (empty_object then hash → a fixed hash)', () => {
    const sql = buildSqlRedaction(
      [
        rule({ fields: ['a'], action: 'empty_object', recursive: false }),
        rule({ fields: ['a'], action: 'hash', recursive: false }),
      ],
      't',
      'select r from t',
    )!;
    // hashValue({}) = replay- + sha256('{}')[0..12]
    expect(sql.text).toContain(`jsonb_build_object('a', '"replay-44136fa355b3"'::jsonb)`);
    expect(sql.text).not.toContain('then chr(3)'); // nothing can need the JS path
  });

  it('is undefined when no rule applies, or a field/prefix is not plain printable ASCII', () => {
    expect(
      buildSqlRedaction([rule({ table: 'other', fields: ['a'], action: 'empty' })], 't', 'select 1'),
    ).toBeUndefined();
    expect(
      buildSqlRedaction([rule({ fields: ['naïve'], action: 'empty' })], 't', 'select 1'),
    ).toBeUndefined();
    expect(
      buildSqlRedaction([rule({ fields: ['a'], action: 'hash', prefix: 'p\n' })], 't', 'select 1'),
    ).toBeUndefined();
  });

  it('quotes fields and prefixes as literals (a quote cannot end the string)', () => {
    const sql = buildSqlRedaction(
      [rule({ fields: ["it's"], action: 'hash', prefix: "o'" })],
      't',
      'select r from t',
    )!;
    expect(sql.text).toContain(`r->'it''s'`);
    expect(sql.text).toContain(`('o''' || left(`);
  });
});
