import fc from 'fast-check';
import { parse, stringify } from 'lossless-json';
import { describe, expect, it } from 'vitest';

import { jsonText, redactionRow, redactionRule } from '../../test/setup/json-arbitraries.js';
import type { ParsedRedactionRule } from '../manifest/index.js';
import { createRowRedactor, hashValue, redactRowText } from './index.js';

const compact = (text: string) => stringify(parse(text)) ?? 'null';
/** Re-spaces JSON text outside strings the way jsonb prints it (`{"a": 1, "b": [1, 2]}`), or with newlines. */
function respace(text: string, style: 'jsonb' | 'loose'): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    out += c;
    if (inString) {
      if (c === '\\') out += text[++i];
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === ':' || c === ',') out += style === 'jsonb' ? ' ' : '\n\t ';
  }
  return style === 'loose' ? ` ${out} ` : out;
}

describe('redactBytes (top-level splice, else the full path)', () => {
  it('gives the same values as the full parse/re-serialise path on generated rows, any spacing', () => {
    fc.assert(
      fc.property(
        fc.array(redactionRule, { minLength: 1, maxLength: 3 }),
        redactionRow,
        fc.constantFrom('compact', 'jsonb', 'loose') as fc.Arbitrary<'compact' | 'jsonb' | 'loose'>,
        (rules, compactRow, style) => {
          const text = style === 'compact' ? compactRow : respace(compactRow, style);
          const redactor = createRowRedactor(rules, 't');
          if (!redactor) return;
          const viaBytes = redactor.redactBytes(Buffer.from(text, 'utf8')).toString('utf8');
          expect(compact(viaBytes)).toBe(compact(redactRowText(redactor, text)));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('splices top-level values in place (spacing kept), hashes non-strings as serde_json printed them', () => {
    const rules = [
      { fields: ['email'], action: 'hash', prefix: 'm-', recursive: true },
      { fields: ['ip'], action: 'null', recursive: true },
    ] as ParsedRedactionRule[];
    const redactor = createRowRedactor(rules, 't')!;
    const out = (text: string) => redactor.redactBytes(Buffer.from(text, 'utf8')).toString('utf8');
    expect(out('{"ip": "192.0.2.1", "email": "a@b", "n": 1.50}')).toBe(
      `{"ip": null, "email": "${hashValue('a@b', 'm-')}", "n": 1.50}`,
    );
    expect(out('{"email": 19.90}')).toBe(`{"email": "${hashValue('19.9', 'm-')}"}`);
    expect(out('{"email": {"b": [1, 2.50]}}')).toBe(`{"email": "${hashValue('{"b":[1,2.5]}', 'm-')}"}`);
    // A nested key: the whole row goes through the full path (compact output), nested value redacted.
    expect(out('{"ip": "x", "ctx": {"ip": "y"}}')).toBe('{"ip":null,"ctx":{"ip":null}}');
    // null and "" untouched: the very same bytes come back.
    const same = Buffer.from('{"ip": null, "email": ""}');
    expect(redactor.redactBytes(same)).toBe(same);
  });

  it('recognises keys written with escapes, at the top level and nested', () => {
    const redactor = createRowRedactor(
      [{ fields: ['email'], action: 'hash', prefix: 'm-', recursive: true }] as ParsedRedactionRule[],
      't',
    )!;
    const out = (text: string) => redactor.redactBytes(Buffer.from(text, 'utf8')).toString('utf8');
    expect(out('{"\\u0065mail": "a"}')).toBe(`{"\\u0065mail": "${hashValue('a', 'm-')}"}`);
    expect(compact(out('{"email": "a", "p": {"\\u0065mail": "b"}}'))).toBe(
      `{"email":"${hashValue('a', 'm-')}","p":{"email":"${hashValue('b', 'm-')}"}}`,
    );
  });

  it('takes the full path for what it does not understand (duplicate keys, broken text)', () => {
    const redactor = createRowRedactor(
      [{ fields: ['a'], action: 'empty', recursive: false }] as ParsedRedactionRule[],
      't',
    )!;
    expect(() => redactor.redactBytes(Buffer.from('{"a": "x", "a": "y"}'))).toThrow(/Duplicate key/);
    expect(() => redactor.redactBytes(Buffer.from('{"a": tru}'))).toThrow();
  });

  it('never lets a value through that a rule names, even as a string inside a string', () => {
    fc.assert(
      fc.property(jsonText, (value) => {
        const text = `{"k": ${JSON.stringify(`{"token": ${value}}`)}, "token": ${value}}`;
        const redactor = createRowRedactor(
          [{ fields: ['token'], action: 'empty', recursive: true }] as ParsedRedactionRule[],
          't',
        )!;
        const outText = redactor.redactBytes(Buffer.from(text, 'utf8')).toString('utf8');
        expect(compact(outText)).toBe(compact(redactRowText(redactor, text)));
      }),
    );
  });
});
