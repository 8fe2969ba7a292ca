import { describe, expect, it } from 'vitest';

import { planSubjectRewrite } from '../capsule/rewrite-subject.js';
import { UsageError } from '../errors.js';
import { RewriteTally } from './rewrite-tally.js';

describe('rewrite tally', () => {
  const rewrite = planSubjectRewrite({ customer_id: '1' }, { customer_id: '9001' });

  it('counts the values rewritten per table', () => {
    const tally = new RewriteTally(rewrite);
    expect(tally.row('film', '{"film_id": 1, "customer_id": 1}')).toBe('{"film_id":1,"customer_id":9001}');
    tally.row('film', '{"film_id": 2, "customer_id": 1}');
    tally.row('payment', '{"payment_id": 7, "customer_id": 2}');
    expect(tally.perTable).toEqual({ film: 2, payment: 0 });
    expect(() => tally.assertMoved()).not.toThrow();
  });

  it('a rewrite that changed nothing in a capsule with rows is a usage error naming the key', () => {
    const tally = new RewriteTally(rewrite);
    tally.row('film', '{"film_id": 1, "owner": 1}');
    expect(() => tally.assertMoved()).toThrow(UsageError);
    expect(() => tally.assertMoved()).toThrow(/customer_id=1/);
  });

  it('without a rewrite, rows pass untouched and nothing is checked', () => {
    const tally = new RewriteTally(planSubjectRewrite({ customer_id: '1' }, {}));
    expect(tally.row('film', '{"customer_id": 1}')).toBe('{"customer_id": 1}');
    expect(() => tally.assertMoved()).not.toThrow();
  });
});
