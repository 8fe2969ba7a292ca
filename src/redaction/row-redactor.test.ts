import fc from 'fast-check';
import { stringify } from 'lossless-json';
import { describe, expect, it } from 'vitest';

import type { ParsedRedactionRule } from '../manifest/index.js';
import { hashValue } from './hash.js';
import { redactRowText } from './redact-text.js';
import { createRowRedactor } from './row-redactor.js';

const rule = (partial: Partial<ParsedRedactionRule> & Pick<ParsedRedactionRule, 'fields' | 'action'>) =>
  ({ prefix: 'replay-', recursive: true, ...partial }) as ParsedRedactionRule;

describe('createRowRedactor', () => {
  it('is undefined when no rule applies to the table', () => {
    expect(createRowRedactor([], 'users')).toBeUndefined();
    expect(
      createRowRedactor([rule({ table: 'orders', fields: ['x'], action: 'null' })], 'users'),
    ).toBeUndefined();
  });

  it('applies each action; hash leaves null and "" alone', () => {
    const redactor = createRowRedactor(
      [
        rule({ fields: ['a'], action: 'empty' }),
        rule({ fields: ['b'], action: 'null' }),
        rule({ fields: ['c'], action: 'empty_object' }),
        rule({ fields: ['d'], action: 'empty_array' }),
        rule({ fields: ['e', 'f', 'g', 'h'], action: 'hash', prefix: 'h-' }),
      ],
      't',
    )!;
    expect(
      redactor.redact({ a: 'x', b: 1, c: { z: 1 }, d: [1], e: 'v', f: null, g: '', h: 7, i: 'keep' }),
    ).toEqual({
      a: '',
      b: null,
      c: {},
      d: [],
      e: hashValue('v', 'h-'),
      f: null,
      g: '',
      h: hashValue(7, 'h-'),
      i: 'keep',
    });
  });

  it('leaves null and "" alone whatever the action, as the original tool did', () => {
    for (const action of ['empty', 'null', 'empty_object', 'empty_array', 'hash'] as const) {
      const redactor = createRowRedactor([rule({ fields: ['x', 'y'], action })], 't')!;
      expect(redactor.redact({ x: null, y: '' })).toEqual({ x: null, y: '' });
    }
  });

  it('recursive (default) reaches any depth, through arrays; recursive false only top-level keys', () => {
    const row = () => ({ token: 't0', nested: { token: 't1', list: [{ token: 't2' }, [{ token: 't3' }]] } });
    expect(createRowRedactor([rule({ fields: ['token'], action: 'empty' })], 't')!.redact(row())).toEqual({
      token: '',
      nested: { token: '', list: [{ token: '' }, [{ token: '' }]] },
    });
    expect(
      createRowRedactor([rule({ fields: ['token'], action: 'empty', recursive: false })], 't')!.redact(row()),
    ).toEqual({ token: '', nested: { token: 't1', list: [{ token: 't2' }, [{ token: 't3' }]] } });
  });

  it('scopes rules with `table`; several rules on one field apply in manifest order', () => {
    const rules = [
      rule({ table: 'users', fields: ['email'], action: 'hash', prefix: 'u-' }),
      rule({ fields: ['email'], action: 'empty' }),
    ];
    expect(createRowRedactor(rules, 'users')!.redact({ email: 'a@b' })).toEqual({ email: '' });
    expect(createRowRedactor([...rules].reverse(), 'users')!.redact({ email: 'a@b' })).toEqual({ email: '' });
    expect(createRowRedactor(rules.slice(0, 1), 'users')!.redact({ email: 'a@b' })).toEqual({
      email: hashValue('a@b', 'u-'),
    });
    expect(createRowRedactor(rules, 'orders')!.redact({ email: 'a@b' })).toEqual({ email: '' });
  });

  it('pre-checks the row text for the field as a JSON key, also on bytes', () => {
    const redactor = createRowRedactor([rule({ fields: ['api_key', 'naïve "q"'], action: 'empty' })], 't')!;
    expect(redactor.mightApply('{"id": 1, "name": "x"}')).toBe(false);
    expect(redactor.mightApply('{"api_key": "k"}')).toBe(true);
    expect(redactor.mightApply('{"naïve \\"q\\"": 1}')).toBe(true);
    expect(redactor.mightApplyBytes(Buffer.from('{"p": {"api_key": 1}}'))).toBe(true);
    expect(redactor.mightApplyBytes(Buffer.from('{"apikey": 1}'))).toBe(false);
    // Bytes: the non-ASCII field as UTF-8, escaped quotes, and no regular-expression meaning in names.
    expect(redactor.mightApplyBytes(Buffer.from('{"naïve \\"q\\"": 1}'))).toBe(true);
    expect(redactor.mightApplyBytes(Buffer.from('{"naive \\"q\\"": 1}'))).toBe(false);
    const dotted = createRowRedactor([rule({ fields: ['a.b', 'x|y', 'ü'], action: 'null' })], 't')!;
    expect(dotted.mightApplyBytes(Buffer.from('{"axb": 1, "x": 2, "y": 3, "u": 4}'))).toBe(false);
    expect(dotted.mightApplyBytes(Buffer.from('{"n": {"a.b": 1}}'))).toBe(true);
    expect(dotted.mightApplyBytes(Buffer.from('{"x|y": 1}'))).toBe(true);
    expect(dotted.mightApplyBytes(Buffer.from('{"ü": 1}'))).toBe(true);
    // Past 1 MiB the check searches the bytes directly: same answers.
    const long = (row: string) => Buffer.from(`{"pad": "${'p'.repeat(1 << 20)}", ${row.slice(1)}`);
    expect(dotted.mightApplyBytes(long('{"ü": 1}'))).toBe(true);
    expect(dotted.mightApplyBytes(long('{"u": 1}'))).toBe(false);
  });

  it('sends rows that spell a key with a \\u or \\/ escape to the redactor, which decodes it', () => {
    // Export's rows are jsonb text, which never spells a key so; the pre-check must not rely on that.
    const redactor = createRowRedactor([rule({ fields: ['email', 'a/b'], action: 'null' })], 't')!;
    for (const row of [String.raw`{"\u0065mail": "s"}`, String.raw`{"n": [{"a\/b": "s"}]}`]) {
      expect(redactor.mightApply(row), row).toBe(true);
      expect(redactor.mightApplyBytes(Buffer.from(row)), row).toBe(true);
      expect(redactor.needlePositions(Buffer.from(`{"x": 1}\n${row}\n`), 0).length, row).toBeGreaterThan(0);
      expect(redactor.redactBytes(Buffer.from(row)).toString(), row).not.toContain('"s"');
    }
  });

  it('finds every needle of a chunk, in order, from an offset; rows without one are those mightApplyBytes rejects', () => {
    const redactor = createRowRedactor([rule({ fields: ['ip', 'naïve "q"', 'x|y'], action: 'null' })], 't')!;
    const rows = ['{"ip": 1}', '{"a": 2}', '{"n": {"naïve \\"q\\"": 3}, "ip": 4}', '{"x|y": 5}', '{"xy": 6}'];
    const chunk = Buffer.from(rows.map((row) => `${row}\n`).join(''));
    const positions = redactor.needlePositions(chunk, 0);
    const expected = ['"ip"', '"naïve \\"q\\""', '"x|y"']
      .flatMap((needle) => {
        const bytes = Buffer.from(needle);
        const found: number[] = [];
        for (let at = chunk.indexOf(bytes); at !== -1; at = chunk.indexOf(bytes, at + 1)) found.push(at);
        return found;
      })
      .sort((a, b) => a - b);
    expect(positions).toEqual(expected);
    expect(positions).toHaveLength(4);
    expect(redactor.needlePositions(chunk, positions[1]! + 1)).toEqual(positions.slice(2));
    let start = 0;
    for (const row of rows) {
      const end = start + Buffer.byteLength(row);
      const holds = positions.some((at) => at >= start && at < end);
      expect(holds).toBe(redactor.mightApplyBytes(chunk.subarray(start, end)));
      start = end + 1;
    }
    // Past 1 MiB: one search per needle, same positions.
    const big = Buffer.concat([Buffer.from(`{"pad": "${'p'.repeat(1 << 20)}"}\n`), chunk]);
    const shift = big.length - chunk.length;
    expect(redactor.needlePositions(big, 0)).toEqual(positions.map((at) => at + shift));
  });

  it('finds the escape needles wherever they are after the offset, and only there', () => {
    // A chunk without `\u` or `\/` is searched for the field needles alone: the same positions.
    const redactor = createRowRedactor([rule({ fields: ['email', 'a\tb'], action: 'null' })], 't')!;
    const rows = [
      '{"email": 1, "t": "\\"q\\" \\\\"}',
      String.raw`{"\u0065mail": 2}`,
      '{"a\\tb": 3, "x": "email"}',
      String.raw`{"n": {"a\/b": 4}, "email": 5}`,
      '{"emails": 6}',
    ];
    const all = /"email"|"a\\tb"|\\u|\\\//g;
    for (let mask = 1; mask < 1 << rows.length; mask++) {
      const chunk = Buffer.from(
        rows
          .filter((_, index) => mask & (1 << index))
          .map((row) => `${row}\n`)
          .join(''),
      );
      for (const from of [0, chunk.indexOf('\n') + 1]) {
        const expected = [...chunk.toString('latin1', from).matchAll(all)].map((m) => from + m.index);
        expect(redactor.needlePositions(chunk, from), `${chunk.toString()} from ${from}`).toEqual(expected);
      }
    }
  });
});

describe('properties', () => {
  const field = fc.constantFrom('secret', 'token', 'email');
  const key = fc.oneof(field, fc.string({ maxLength: 6 }));
  const json = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      fc.string(),
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
      fc.array(tie('value'), { maxLength: 3 }),
      fc.dictionary(key, tie('value'), { maxKeys: 4 }),
    ),
  })).value;
  const row = fc.dictionary(key, json, { maxKeys: 6 });
  const nonHash = fc.constantFrom('empty', 'null', 'empty_object', 'empty_array') as fc.Arbitrary<
    ParsedRedactionRule['action']
  >;
  const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

  it('non-hash actions are idempotent', () => {
    fc.assert(
      fc.property(row, nonHash, fc.boolean(), (input, action, recursive) => {
        const redactor = createRowRedactor([rule({ fields: ['secret', 'token'], action, recursive })], 't')!;
        const once = redactor.redact(clone(input));
        expect(redactor.redact(clone(once))).toEqual(once);
      }),
    );
  });

  it('top-level fields no rule names are unchanged (non-recursive rules)', () => {
    fc.assert(
      fc.property(row, nonHash, (input, action) => {
        const redactor = createRowRedactor([rule({ fields: ['secret'], action, recursive: false })], 't')!;
        const out = redactor.redact(clone(input)) as Record<string, unknown>;
        for (const [name, value] of Object.entries(input)) {
          if (name !== 'secret') expect(out[name]).toEqual(value);
        }
      }),
    );
  });

  it('the output never contains the original value of a redacted string field', () => {
    const secret = fc.string({ minLength: 8, maxLength: 20 }).map((text) => `SECRET:${text}`);
    fc.assert(
      fc.property(
        row,
        secret,
        fc.constantFrom('empty', 'null', 'hash') as fc.Arbitrary<ParsedRedactionRule['action']>,
        (input, value, action) => {
          const withSecret = { ...input, nested: [{ secret: value }], secret: value };
          const text = stringify(withSecret)!;
          const redactor = createRowRedactor([rule({ fields: ['secret'], action })], 't')!;
          const out = redactRowText(redactor, text);
          expect(out).not.toContain(JSON.stringify(value).slice(1, -1));
        },
      ),
    );
  });
});
