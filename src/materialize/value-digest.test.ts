import { describe, expect, it } from 'vitest';

import { differingRowsSql, DigestAccumulator, stagedDigestSql, tableDigestSql } from './value-digest.js';

describe('value digest SQL', () => {
  it('digests a whole table, unwritten columns left out', () => {
    expect(tableDigestSql('film', ['fulltext'])).toMatchInlineSnapshot(`
      {
        "text": "/* tables[film] verify values */ select count(*)::bigint as rows,
             coalesce(sum(('x' || left(md5((to_jsonb(t) - $1::text[])::text), 13))::bit(52)::bigint), 0)::text as sum
        from "film" t",
        "values": [
          [
            "fulltext",
          ],
        ],
      }
    `);
  });

  it('digests staged rows and the target rows with their primary keys', () => {
    expect(stagedDigestSql('payment', 2, ['payment_date', 'payment_id'], ['g'], []).text)
      .toMatchInlineSnapshot(`
        "/* tables[payment] verify values */ select sent.rows as sent_rows, sent.sum as sent_sum, got.rows as got_rows, got.sum as got_sum
          from (select count(*)::bigint as rows, coalesce(sum(('x' || left(md5((s.doc - $1::text[])::text), 13))::bit(52)::bigint), 0)::text as sum
                  from "replay_stage_2" s) sent,
               (select count(*)::bigint as rows, coalesce(sum(('x' || left(md5((to_jsonb(t) - $2::text[])::text), 13))::bit(52)::bigint), 0)::text as sum
                  from "payment" t where (to_jsonb(t."payment_date"), to_jsonb(t."payment_id")) in (select s.doc -> 'payment_date', s.doc -> 'payment_id' from "replay_stage_2" s)) got"
      `);
  });

  it('counts differing rows exactly, as a multiset difference of typed rows', () => {
    expect(differingRowsSql('film', 0, ['film_id'], []).text).toMatchInlineSnapshot(`
      "/* tables[film] verify values */ select count(*)::bigint as differing from (
        select (to_jsonb(r) - $1::text[])::text from "replay_stage_0" s cross join lateral jsonb_populate_record(null::"film", s.doc) as r
        except all
        select (to_jsonb(t) - $1::text[])::text from "film" t where (t."film_id") in (select r."film_id" from "replay_stage_0" s cross join lateral jsonb_populate_record(null::"film", s.doc) as r)) d"
    `);
    expect(differingRowsSql('film', 0, [], []).text).toContain('from "film" t) d');
  });

  it('sums 52-bit row hashes exactly, in any order', () => {
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
