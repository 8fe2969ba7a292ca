import { describe, expect, it } from 'vitest';

import { canonicalJson, numericText } from './canonical-json.js';

describe('canonical jsonb text', () => {
  it('orders keys as jsonb does (shorter first, then bytewise), keeps the last duplicate, spaces', () => {
    expect(canonicalJson('{"b":1,"aa":[true,-0],"a":"x","b":2}')).toBe('{"a": "x", "b": 2, "aa": [true, 0]}');
    expect(canonicalJson(' { "é" : null , "z":{} ,"y":[ ] } ')).toBe('{"y": [], "z": {}, "é": null}');
  });

  it('escapes strings as jsonb prints them', () => {
    expect(canonicalJson('"a\\/b\\u00e9\\t\\u0001\\"\\\\ 😀"')).toBe('"a/bé\\t\\u0001\\"\\\\ 😀"');
  });

  it('drops top-level keys only', () => {
    expect(canonicalJson('{"g":1,"o":{"g":2}}', new Set(['g']))).toBe('{"o": {"g": 2}}');
  });

  it('prints numbers as numeric does', () => {
    expect(
      ['0', '-0', '-0.00', '1.50', '1e2', '1.0E+2', '1.5e-1', '-12.345e1', '0.001e3', '5E-3'].map(
        numericText,
      ),
    ).toEqual(['0', '0', '0.00', '1.50', '100', '100', '0.15', '-123.45', '1', '0.005']);
  });

  it('rejects what is not JSON', () => {
    expect(() => canonicalJson('{"a":1')).toThrow(SyntaxError);
    expect(() => canonicalJson('{"a":1} x')).toThrow(SyntaxError);
    expect(() => canonicalJson('[01]')).toThrow(SyntaxError);
  });
});
