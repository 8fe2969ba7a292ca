import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
  detectSecret,
  isSecretFieldName,
  mayHoldSecret,
  scanValue,
  shannonEntropy,
} from './secret-scanner.js';

// Built at run time so this file holds no literal that secret scanners on the repository would flag.
const fake = {
  slackBot: ['xoxb', '123456789012', 'abcdefghijABCDEF'].join('-'),
  slackUser: ['xoxp', '99999999', 'zzzzzzzzzzzz'].join('-'),
  openai: `sk-${'Ab3dE6gH9jK2mN5pQ8sT1vW4'}`,
  stripe: `sk_live_${'4eC39HqLyjWDarjtT1zdp7dc'}`,
  skLive: `sk-live-${'0123456789abcdefXYZ'}`,
  github: `ghp_${'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8'}`,
  githubPat: `github_pat_${'11ABCDEFG0123456789_abcdefghijklmnop'}`,
  aws: `AKIA${'IOSFODNN7EXAMPLE'}`,
  jwt: ['eyJhbGciOiJIUzI1NiJ9', 'eyJzdWIiOiIxMjM0In0', 'c2lnbmF0dXJlLXBhcnQ'].join('.'),
  pem: `-----BEGIN RSA ${'PRIVATE KEY'}-----\nMIIEow…`,
};

describe('detectSecret', () => {
  it.each([
    [fake.slackBot, 'slack token'],
    [fake.slackUser, 'slack token'],
    [fake.openai, 'api key (sk-)'],
    [fake.skLive, 'api key (sk-)'],
    [fake.stripe, 'stripe key'],
    [fake.github, 'github token'],
    [fake.githubPat, 'github token'],
    [fake.aws, 'aws access key'],
    [fake.jwt, 'jwt'],
    [fake.pem, 'private key'],
    [`token: ${fake.slackBot} (pasted in a note)`, 'slack token'],
  ])('finds %s anywhere', (value, kind) => {
    expect(detectSecret(value, 'note')).toBe(kind);
    expect(detectSecret(value, undefined)).toBe(kind);
  });

  it.each([
    ['api_key', 'q8Zr2LmT5xVb9NwY3kPc7HdJ'],
    ['apiKey', 'q8Zr2LmT5xVb9NwY3kPc7HdJ'],
    ['session_token', 'Z2FyYmFnZS10b2tlbi12YWx1ZS0xMjM0NTY3ODk'],
    ['client_secret', 'f3a9c1e7b5d2048e6a1c9f3b7d5e2a8c'],
    ['DB_PASSWORD', 'Tr0ub4dor&3-horse-Battery!x'],
    ['credentials', 'a8F3kL0pQ7zX2mN9vB4cJ6hT'],
  ])('finds a high-entropy value in %s', (field, value) => {
    expect(detectSecret(value, field)).toBe('high-entropy value in a secret-named field');
  });

  it.each([
    ['api_key', 'short'],
    ['api_key', ''],
    ['password', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'],
    ['password', 'please reset your password tomorrow morning'],
    ['token_expires_at', '2026-05-25T23:45:40.535064+00:00'],
    ['api_token', 'redacted-token-3376300c1af8'],
    ['name', 'q8Zr2LmT5xVb9NwY3kPc7HdJ'],
    ['author', 'q8Zr2LmT5xVb9NwY3kPc7HdJ'],
    ['description', 'task-0123456789abcdefghij'],
  ])('leaves %s = %s alone', (field, value) => {
    expect(detectSecret(value, field, { hashPrefixes: ['redacted-token-'] })).toBeUndefined();
  });

  it('entropy threshold and minimum length are configurable', () => {
    const value = 'abcdefghijklmnopqrst'; // 20 distinct characters: log2(20) ≈ 4.32 bits
    expect(detectSecret(value, 'token')).toBe('high-entropy value in a secret-named field');
    expect(detectSecret(value, 'token', { entropyThreshold: 4.5 })).toBeUndefined();
    expect(detectSecret(value, 'token', { minLength: 21 })).toBeUndefined();
  });
});

describe('scanValue', () => {
  it('reports field paths through objects and arrays, never values', () => {
    const row = {
      id: 1,
      profile: { prefs: { api_key: 'q8Zr2LmT5xVb9NwY3kPc7HdJ' }, notes: ['hi', `my key ${fake.aws}`] },
      tokens: [fake.github],
    };
    const hits = scanValue(row);
    expect(hits).toEqual([
      { path: 'profile.prefs.api_key', kind: 'high-entropy value in a secret-named field' },
      { path: 'profile.notes[1]', kind: 'aws access key' },
      { path: 'tokens[0]', kind: 'github token' },
    ]);
    expect(JSON.stringify(hits)).not.toContain('q8Zr2');
  });

  it('finds a token placed anywhere in any JSON document', () => {
    const secrets = Object.values(fake);
    fc.assert(
      fc.property(
        fc.jsonValue(),
        fc.constantFrom(...secrets),
        fc.array(fc.string({ maxLength: 8 }), { minLength: 1, maxLength: 4 }),
        (noise, secret, keys) => {
          let doc: unknown = secret;
          for (const key of keys) doc = { [`f_${key}`]: doc, other: noise };
          const hits = scanValue(doc);
          expect(hits.map((hit) => hit.path)).toContain(
            keys
              .map((key) => `f_${key}`)
              .reverse()
              .join('.'),
          );
          expect(mayHoldSecret(JSON.stringify(doc))).toBe(true);
        },
      ),
    );
  });

  it('the pre-filter never hides a finding', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        if (scanValue(value).length > 0) expect(mayHoldSecret(JSON.stringify(value))).toBe(true);
      }),
    );
  });
});

describe('helpers', () => {
  it('shannonEntropy', () => {
    expect(shannonEntropy('')).toBe(0);
    expect(shannonEntropy('aaaa')).toBe(0);
    expect(shannonEntropy('abcd')).toBe(2);
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), (text) => {
        const entropy = shannonEntropy(text);
        expect(entropy).toBeGreaterThanOrEqual(0);
        expect(entropy).toBeLessThanOrEqual(Math.log2([...text].length) + 1e-9);
      }),
    );
  });

  it.each([
    ['api_key', true],
    ['API-Key', true],
    ['private_key', true],
    ['passwd', true],
    ['oauth', true],
    ['refreshToken', true],
    ['author', false],
    ['email', false],
    ['keyboard', false],
  ])('isSecretFieldName(%s) = %s', (name, expected) => {
    expect(isSecretFieldName(name)).toBe(expected);
  });
});
