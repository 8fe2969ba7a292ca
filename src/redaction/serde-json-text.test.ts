import { parse } from 'lossless-json';
import { describe, expect, it } from 'vitest';

import { hashValue } from './hash.js';
import { ryuFormat, serdeJsonText, serdeNumberText } from './serde-json-text.js';

describe('serde_json-compatible text (what the original tool hashed)', () => {
  it.each([
    ['19.90', '19.9'],
    ['5.00', '5.0'],
    ['0', '0'],
    ['-12', '-12'],
    ['18446744073709551615', '18446744073709551615'],
    ['18446744073709551616', '1.8446744073709552e19'],
    ['1e2', '100.0'],
    ['0.0001', '0.0001'],
    ['0.00001', '0.00001'],
    ['0.000012', '0.000012'],
    ['0.000001', '1e-6'],
    ['0.0000012', '1.2e-6'],
    ['1234567890123456.7', '1234567890123456.8'],
    ['12345678901234567.0', '1.2345678901234568e16'],
    ['1e16', '1e16'],
    ['-0.5', '-0.5'],
  ])('number %s prints as %s', (input, expected) => {
    expect(serdeNumberText(input)).toBe(expected);
  });

  it('prints ryu formats for f64 edge values', () => {
    expect(ryuFormat(0)).toBe('0.0');
    expect(ryuFormat(1)).toBe('1.0');
    expect(ryuFormat(123456)).toBe('123456.0');
    expect(ryuFormat(0.1 + 0.2)).toBe('0.30000000000000004');
  });

  it('keeps object key order and compacts like serde_json', () => {
    const value = parse('{"b": [1, 2.50, "x\\n"], "a": {"n": null, "t": true}}');
    expect(serdeJsonText(value)).toBe('{"b":[1,2.5,"x\\n"],"a":{"n":null,"t":true}}');
  });

  it('hashes numbers as the original did (19.90 hashes as 19.9)', () => {
    expect(hashValue(parse('19.90'), 'p-')).toBe(hashValue('19.9', 'p-'));
    expect(hashValue('prod-user-123', 'replay-user-')).toBe('replay-user-3376300c1af8');
  });
});
