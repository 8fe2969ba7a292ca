// Generators shared by the redaction property tests: JSON rows as TEXT (so numbers keep the exact text a
// row carries: 19.90, 1e16, integers beyond 2^64), keys that collide with rule fields at any depth, and
// redaction rules over those fields.
import fc from 'fast-check';

import type { ParsedRedactionRule } from '../../src/manifest/index.js';

export const redactionFields = ['email', 'token', 'ip', 'n'] as const;
const key = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...redactionFields) },
  fc.constantFrom('x"email', 'other', 'émail', ''),
  fc.string({ maxLength: 4 }),
);
const number = fc.oneof(
  fc.integer().map(String),
  fc.constantFrom(
    '19.90',
    '5.00',
    '0.0',
    '-0',
    '12345678901234567890.123456',
    '1e16',
    '2.5e-7',
    '18446744073709551616',
  ),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map(String),
);
// Values as JSON text, so numbers keep the exact text the rows carry.
export const jsonText: fc.Arbitrary<string> = fc.letrec<{ value: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc
      .oneof(fc.string(), fc.constantFrom('', 'email', 'token', 'naïve "q" \\ 🚀', '\u0001\n'))
      .map((s) => JSON.stringify(s)),
    number,
    fc.constantFrom('true', 'false', 'null'),
    fc.array(tie('value'), { maxLength: 3 }).map((items) => `[${items.join(',')}]`),
    fc
      .uniqueArray(fc.tuple(key, tie('value')), { maxLength: 4, selector: ([k]) => k })
      .map((entries) => `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`),
  ),
})).value;
export const redactionRow = fc
  .uniqueArray(fc.tuple(key, jsonText), { maxLength: 6, selector: ([k]) => k })
  .map((entries) => `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`);
export const redactionRule: fc.Arbitrary<ParsedRedactionRule> = fc.record({
  table: fc.constantFrom(undefined, 't', 'other'),
  fields: fc.subarray([...redactionFields], { minLength: 1 }),
  action: fc.constantFrom('empty', 'null', 'empty_object', 'empty_array', 'hash', 'hash'),
  prefix: fc.constantFrom('replay-', 'mail-', '', "it's-"),
  recursive: fc.boolean(),
}) as fc.Arbitrary<ParsedRedactionRule>;
