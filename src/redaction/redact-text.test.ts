import { readFile } from 'node:fs/promises';

import { describe, expect, it } from 'vitest';

import type { ParsedRedactionRule } from '../manifest/index.js';
import { hashValue } from './hash.js';
import { redactRowText } from './redact-text.js';
import { createRowRedactor } from './row-redactor.js';

const rule = (partial: Partial<ParsedRedactionRule> & Pick<ParsedRedactionRule, 'fields' | 'action'>) =>
  ({ prefix: 'replay-', recursive: true, ...partial }) as ParsedRedactionRule;

describe('redactRowText', () => {
  const redactor = createRowRedactor([rule({ fields: ['secret'], action: 'hash' })], 't');

  it('returns rows no rule touches unchanged, without re-serializing them', () => {
    const text = '{"a": 1.50, "b": [1, 2]}';
    expect(redactRowText(redactor, text)).toBe(text);
    expect(redactRowText(undefined, '{"secret": 1}')).toBe('{"secret": 1}');
  });

  it('keeps numeric text exactly when a row is parsed and re-serialized', () => {
    const out = redactRowText(
      redactor,
      '{"secret": "s", "big": 12345678901234567890.123456, "price": 19.90, "e": 1e400}',
    );
    expect(out).toBe(
      `{"secret":"${hashValue('s')}","big":12345678901234567890.123456,"price":19.90,"e":1e400}`,
    );
  });

  it("matches the original tool's capsule for the shop fixture rules", async () => {
    const manifest = JSON.parse(
      await readFile(new URL('../../test/fixtures/original-tool/manifest.json', import.meta.url), 'utf8'),
    ) as { redactionRules: ParsedRedactionRule[] };
    const rules = manifest.redactionRules.map((r) => rule(r));
    const customers = createRowRedactor(rules, 'customers')!;
    const ada = customers.redact({
      email: 'ada@example.com',
      api_key: 'key-ada-123',
      profile: { prefs: { newsletter: true, api_key: 'nested-secret' } },
    });
    expect(ada).toEqual({
      email: 'mail-b5fc85e55755',
      api_key: '',
      profile: { prefs: { newsletter: true, api_key: '' } },
    });
    // The email rule is scoped to customers; api_key applies everywhere.
    expect(createRowRedactor(rules, 'orders')!.redact({ email: 'e', api_key: 'k' })).toEqual({
      email: 'e',
      api_key: '',
    });
  });
});
