import { describe, expect, it } from 'vitest';

import {
  differingRowsSql,
  DigestAccumulator,
  nestedJsonArraysSql,
  stagedKeysDigestSql,
  tableDigestSql,
} from './value-digest.js';

describe('value digest SQL', () => {
  it('counts loaded rows with a json/jsonb array of more than one dimension, only when a column is one', () => {
    const columns = [
      { name: 'id', type: 'integer' },
      { name: 'Blobs', type: 'jsonb[]' },
      { name: 'docs', type: 'json[]' },
      { name: 'tags', type: 'text[]' },
    ];
    expect(nestedJsonArraysSql('docs', columns)).toEqual({
      text: '/* tables[docs] verify values */ select count(*)::bigint as nested\n  from "docs" t where (array_ndims(t."Blobs") > 1 or array_ndims(t."docs") > 1)',
      values: [],
    });
    expect(nestedJsonArraysSql('docs', columns, { index: 2, primaryKey: ['id'] })?.text).toBe(
      '/* tables[docs] verify values */ select count(*)::bigint as nested\n  from "docs" t where (array_ndims(t."Blobs") > 1 or array_ndims(t."docs") > 1) and (to_jsonb(t."id")) in (select s.doc -> \'id\' from "replay_stage_2" s)',
    );
    expect(nestedJsonArraysSql('docs', [{ name: 'tags', type: 'text[]' }])).toBeUndefined();
  });

  it('digests a whole table over the written columns, each printed by its type', () => {
    const columns = [
      { name: 'title', type: 'text' },
      { name: 'film_id', type: 'integer' },
    ];
    expect(tableDigestSql('film', columns)).toMatchInlineSnapshot(`
      {
        "text": "/* tables[film] verify values */ select count(*)::bigint as rows, coalesce(sum(hashtextextended(('{"title": ' || coalesce(to_json(t."title")::text, 'null') || ', "film_id": ' || coalesce(t."film_id"::text, 'null') || '}') collate "C", 0)), 0)::text as sum
        from "film" t",
        "values": [],
      }
    `);
  });

  it('digests an empty column list as empty objects', () => {
    expect(tableDigestSql('film', []).text).toContain(`hashtextextended(('{}') collate "C", 0)`);
  });

  it('digests the target rows with the staged primary keys', () => {
    const columns = [
      { name: 'payment_id', type: 'integer' },
      { name: 'payment_date', type: 'timestamp with time zone' },
    ];
    expect(stagedKeysDigestSql('payment', 2, ['payment_date', 'payment_id'], columns).text)
      .toMatchInlineSnapshot(`
        "/* tables[payment] verify values */ select count(*)::bigint as rows, coalesce(sum(hashtextextended(('{"payment_id": ' || coalesce(t."payment_id"::text, 'null') || ', "payment_date": ' || coalesce(to_json(t."payment_date")::text, 'null') || '}') collate "C", 0)), 0)::text as sum
          from "payment" t where (to_jsonb(t."payment_date"), to_jsonb(t."payment_id")) in (select s.doc -> 'payment_date', s.doc -> 'payment_id' from "replay_stage_2" s)"
      `);
  });

  it('counts differing rows exactly, as a multiset difference of typed rows', () => {
    expect(differingRowsSql('film', 0, ['film_id'], []).text).toMatchInlineSnapshot(`
      "/* tables[film] verify values */ select count(*)::bigint as differing from (
        select (to_jsonb(r.*) - $1::text[])::text from "replay_stage_0" s cross join lateral jsonb_populate_record(null::"film", s.doc) as r
        except all
        select (to_jsonb(t.*) - $1::text[])::text from "film" t where (t."film_id") in (select r."film_id" from "replay_stage_0" s cross join lateral jsonb_populate_record(null::"film", s.doc) as r)) d"
    `);
    expect(differingRowsSql('film', 0, [], []).text).toContain('from "film" t) d');
  });

  it('sums 64-bit row hashes exactly, in any order', () => {
    const a = new DigestAccumulator();
    const b = new DigestAccumulator();
    for (const text of ['{"a": 1}', '{"a": 2}', '{"b": "x"}']) a.add(text);
    for (const text of ['{"b": "x"}', '{"a": 1}', '{"a": 2}']) b.add(text);
    expect(a.digest()).toEqual(b.digest());
    expect(a.digest().rows).toBe(3);
    const c = new DigestAccumulator();
    for (const text of ['{"b": "x"}', '{"a": 1}', '{"a": 3}']) c.add(text);
    expect(c.digest().sum).not.toBe(a.digest().sum);
  });
});
