import { describe, expect, it } from 'vitest';

import { planSubjectRewrite, rewriteSubjectInText } from '../../../src/capsule/rewrite-subject.js';

// #13 item 9: --rewrite-subject keeps `__proto__` keys inside jsonb values.
describe('subject rewrite and __proto__', () => {
  it('keeps a __proto__ key (and rewrites inside it)', () => {
    const rewrite = planSubjectRewrite({ customer_id: 'c1' }, { customer_id: 'local-1' });
    const row = '{"customer_id":"c1","doc":{"__proto__":{"customer_id":"c1","x":1},"constructor":"k"}}';
    const out = JSON.parse(rewriteSubjectInText(row, rewrite)) as Record<string, unknown>;
    expect(out).toEqual(
      JSON.parse(
        '{"customer_id":"local-1","doc":{"__proto__":{"customer_id":"local-1","x":1},"constructor":"k"}}',
      ),
    );
    expect(Object.keys(out.doc as object)).toEqual(['__proto__', 'constructor']);
  });
});
