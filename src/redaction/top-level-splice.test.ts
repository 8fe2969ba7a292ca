import fc from 'fast-check';
import { parse, stringify } from 'lossless-json';
import { describe, expect, it } from 'vitest';

import { jsonText, redactionRow, redactionRule } from '../../test/setup/json-arbitraries.js';
import type { ParsedRedactionRule } from '../manifest/index.js';
import { createRowRedactor, hashValue, redactRowText, type RowRedactor } from './index.js';

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

/**
 * On generated rows and rules (`recursive` as `recursive` says, else generated), any spacing: the bytes
 * `redact` gives hold the same values as the full parse/re-serialise path.
 */
function assertSameAsFullPath(
  redact: (redactor: RowRedactor, row: Buffer) => Buffer,
  recursive?: boolean,
): void {
  fc.assert(
    fc.property(
      fc.array(redactionRule, { minLength: 1, maxLength: 3 }),
      redactionRow,
      fc.constantFrom('compact', 'jsonb', 'loose') as fc.Arbitrary<'compact' | 'jsonb' | 'loose'>,
      (rules, compactRow, style) => {
        const text = style === 'compact' ? compactRow : respace(compactRow, style);
        const redactor = createRowRedactor(
          rules.map((rule) => ({ ...rule, recursive: recursive ?? rule.recursive })),
          't',
        );
        if (!redactor) return;
        const viaBytes = redact(redactor, Buffer.from(text, 'utf8')).toString('utf8');
        expect(compact(viaBytes)).toBe(compact(redactRowText(redactor, text)));
      },
    ),
    { numRuns: 3000 },
  );
}

describe('redactBytes (top-level splice, else the full path)', () => {
  it('gives the same values as the full parse/re-serialise path on generated rows, any spacing', () => {
    assertSameAsFullPath((redactor, row) => redactor.redactBytes(row));
  });

  it('starting at the needles (every rule recursive) gives what the full path gives, any spacing', () => {
    assertSameAsFullPath(
      (redactor, row) => redactor.redactBytes(row, redactor.needlePositions(row, 0)),
      true,
    );
    const redactor = createRowRedactor(
      [{ fields: ['ip', 'token'], action: 'null', prefix: '', recursive: true }] as ParsedRedactionRule[],
      't',
    )!;
    const out = (text: string) => {
      const row = Buffer.from(text, 'utf8');
      return redactor.redactBytes(row, redactor.needlePositions(row, 0)).toString('utf8');
    };
    // A key spelled with an escape, a needle inside a string, a key inside a replaced value, twice.
    expect(out('{"\\u0069p": "a", "x": "ip"}')).toBe('{"\\u0069p": null, "x": "ip"}');
    expect(out('{"a": "\\"ip\\": 1", "ip": [1, {"ip": 2}]}')).toBe('{"a": "\\"ip\\": 1", "ip": null}');
    expect(out('{"token": {"ip": 1}, "p": {"ip" : "x", "q": "ip"}}')).toBe(
      '{"token": null, "p": {"ip" : null, "q": "ip"}}',
    );
    expect(out('{"p": {"ip": 1}, "q": {"ip": 2}}')).toBe('{"p": {"ip": null}, "q": {"ip": null}}');
    // Broken text still goes to the full path, which refuses it.
    expect(() => out('{"ip": 1')).toThrow();
    expect(() => out('{"ip": "x')).toThrow();
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
    // A nested key takes the recursive rules, in place too; a replaced value is replaced whole.
    expect(out('{"ip": "x", "ctx": {"ip": "y", "l": [{"ip": 1}]}}')).toBe(
      '{"ip": null, "ctx": {"ip": null, "l": [{"ip": null}]}}',
    );
    expect(out('{"email": {"email": "x", "ip": "y"}}')).toBe(
      `{"email": "${hashValue('{"email":"x","ip":"y"}', 'm-')}"}`,
    );
    // null and "" untouched: the very same bytes come back.
    const same = Buffer.from('{"ip": null, "email": ""}');
    expect(redactor.redactBytes(same)).toBe(same);
  });

  it('shortcuts (no value parse) give the bytes of the full path: hashed raw UTF-8, constants on any scalar', () => {
    const rules = [
      { fields: ['email'], action: 'hash', prefix: 'a "quoted" \\ prefix-', recursive: true },
      { fields: ['ip'], action: 'empty', recursive: true },
      { fields: ['n'], action: 'empty_object', recursive: false },
    ] as ParsedRedactionRule[];
    const redactor = createRowRedactor(rules, 't')!;
    const out = (text: string) => redactor.redactBytes(Buffer.from(text, 'utf8')).toString('utf8');
    for (const email of ['ça ne marche pas 🚀', 'plain@x', 'tab\\there', 'q\\"uote', '\\u00e9']) {
      const text = `{"email": "${email}", "ip": 1.50, "n": true}`;
      const expected = JSON.stringify(hashValue(JSON.parse(`"${email}"`) as string, rules[0]!.prefix));
      expect(out(text)).toBe(`{"email": ${expected}, "ip": "", "n": {}}`);
      expect(compact(out(text))).toBe(compact(redactRowText(redactor, text)));
    }
    for (const value of ['-0', '2.5e-7', 'false', '[1]', '{"a": 1}', '"x"'])
      expect(out(`{"ip": ${value}}`)).toBe('{"ip": ""}');
    // Not valid JSON: no shortcut hides it, the full path reports it as before.
    for (const broken of ['{"ip": tru}', '{"ip": 01}', '{"ip": [1, tru]}'])
      expect(() => out(broken)).toThrow();
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
    // A non-recursive rule leaves nested keys alone; a recursive one given twice in a nested object throws.
    const nested = Buffer.from('{"p": {"a": "x"}, "a": "y"}');
    expect(redactor.redactBytes(nested).toString()).toBe('{"p": {"a": "x"}, "a": ""}');
    const recursive = createRowRedactor(
      [{ fields: ['a'], action: 'empty', recursive: true }] as ParsedRedactionRule[],
      't',
    )!;
    expect(() => recursive.redactBytes(Buffer.from('{"p": {"a": "x", "a": "y"}}'))).toThrow(/Duplicate key/);
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
