import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
  normalizeKey,
  planSubjectRewrite,
  rewriteSubjectInText,
  rewriteSubjectInValue,
} from './rewrite-subject.js';

const subject = { tenant_id: 'acme', user_id: 'ada' };
const rewrite = planSubjectRewrite(subject, { tenant_id: 'dev-tenant', user_id: 'dev-user' });

describe('subject rewrite', () => {
  it('normalises keys: lower-case, alphanumerics only', () => {
    expect(normalizeKey('Author_User-ID')).toBe('authoruserid');
  });

  it('rewrites fields whose key contains a subject key and whose value is the old value, at any depth', () => {
    const row = {
      tenant_id: 'acme',
      author_user_id: 'ada',
      requesterUserId: 'ada',
      assignee_user_id: 'bob',
      name: 'ada',
      user_ids: ['ada'],
      profile: { owner: { user_id: 'ada', tenantId: 'acme' }, items: [{ user_id: 'ada', n: 1 }] },
      count: 3,
      missing: null,
    };
    expect(rewriteSubjectInValue(row, rewrite)).toEqual({
      tenant_id: 'dev-tenant',
      author_user_id: 'dev-user',
      requesterUserId: 'dev-user',
      assignee_user_id: 'bob',
      name: 'ada',
      user_ids: ['dev-user'], // array items inherit the array's key, as in the original tool
      profile: {
        owner: { user_id: 'dev-user', tenantId: 'dev-tenant' },
        items: [{ user_id: 'dev-user', n: 1 }],
      },
      count: 3,
      missing: null,
    });
    expect(row.tenant_id).toBe('acme'); // the input is not modified
  });

  it('keeps the exact text of numbers and skips rows without the old value unparsed', () => {
    expect(
      rewriteSubjectInText('{"user_id": "ada", "total": 19.90, "big": 123456789012345678901234}', rewrite),
    ).toBe('{"user_id":"dev-user","total":19.90,"big":123456789012345678901234}');
    const untouched = '{"user_id": "bob",  "total": 19.90}';
    expect(rewriteSubjectInText(untouched, rewrite)).toBe(untouched);
  });

  it('a rewrite to the same values, or of no keys, changes nothing', () => {
    expect(planSubjectRewrite(subject, { tenant_id: 'acme' }).changes).toEqual([]);
    expect(planSubjectRewrite(subject, {}).changes).toEqual([]);
  });

  it('property: only matching string fields change, and rewriting back restores the value', () => {
    const keys = fc.constantFrom('user_id', 'author_user_id', 'tenant_id', 'name', 'note', 'UserId');
    const value = fc.letrec<{ value: unknown }>((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        fc.constantFrom('ada', 'acme', 'bob', 'dev-user'),
        fc.integer(),
        fc.constant(null),
        fc.array(tie('value'), { maxLength: 3 }),
        fc.dictionary(keys, tie('value'), { maxKeys: 4 }),
      ),
    }));
    fc.assert(
      fc.property(fc.dictionary(keys, value.value, { maxKeys: 5 }), (row) => {
        const out = rewriteSubjectInValue(row, rewrite);
        // Same shape; a leaf changes exactly when it is an old subject value under a matching key.
        const walk = (before: unknown, after: unknown, key: string | undefined): void => {
          if (Array.isArray(before)) {
            (before as unknown[]).forEach((item, i) => walk(item, (after as unknown[])[i], key));
          } else if (before !== null && typeof before === 'object') {
            for (const [k, v] of Object.entries(before)) walk(v, (after as Record<string, unknown>)[k], k);
          } else {
            const normalized = normalizeKey(key ?? '');
            const expected =
              normalized.includes('userid') && before === 'ada'
                ? 'dev-user'
                : normalized.includes('tenantid') && before === 'acme'
                  ? 'dev-tenant'
                  : before;
            expect(after).toBe(expected);
          }
        };
        walk(row, out, undefined);
        const text = JSON.stringify(row);
        expect(JSON.parse(rewriteSubjectInText(text, rewrite))).toEqual(out);
      }),
    );
  });
});

describe('subject rewrite of integer keys (issue #14 item 1)', () => {
  const integer = planSubjectRewrite({ customer_id: '1' }, { customer_id: '9001' });

  it('rewrites numbers and strings whose text is the old value, keeping their JSON type, and counts them', () => {
    const counts: Record<string, number> = {};
    expect(
      rewriteSubjectInText(
        '{"customer_id": 1, "film_id": 1, "ref_customer_id": "1", "customer_ids": [1, 2], "amount": 1.0}',
        integer,
        counts,
      ),
    ).toBe('{"customer_id":9001,"film_id":1,"ref_customer_id":"9001","customer_ids":[9001,2],"amount":1.0}');
    expect(counts).toEqual({ customer_id: 3 });
    // Graph entries read by the driver carry plain numbers.
    expect(rewriteSubjectInValue([{ customer_id: 1, reasons: ['subject'] }], integer)).toEqual([
      { customer_id: 9001, reasons: ['subject'] },
    ]);
  });

  it('a number rewritten to a value that is not a number becomes that string', () => {
    const text = rewriteSubjectInText(
      '{"customer_id": 1}',
      planSubjectRewrite({ customer_id: '1' }, { customer_id: 'dev' }),
    );
    expect(text).toBe('{"customer_id":"dev"}');
  });
});
