import { describe, expect, it } from 'vitest';

import { resolveCapsulePolicy } from './export-policy.js';

const now = new Date('2026-01-01T00:00:00.000Z');
const a = 'age1aaaa';
const b = 'age1bbbb';

describe('resolveCapsulePolicy (export flags over the manifest capsule section)', () => {
  it('takes the manifest recipients and retention when no flag is given', () => {
    expect(
      resolveCapsulePolicy({
        out: 'c.json.gz.age',
        encryptTo: [],
        expiresIn: undefined,
        manifest: { encryptTo: [a], retentionDays: 7 },
        now,
      }),
    ).toEqual({ encryptTo: [a], expiresAt: '2026-01-08T00:00:00.000Z' });
  });

  it('flags replace the manifest values', () => {
    expect(
      resolveCapsulePolicy({
        out: 'c.json.age',
        encryptTo: [b],
        expiresIn: '12h',
        manifest: { encryptTo: [a], retentionDays: 7 },
        now,
      }),
    ).toEqual({ encryptTo: [b], expiresAt: '2026-01-01T12:00:00.000Z' });
  });

  it('no policy: plain, no expiry', () => {
    expect(resolveCapsulePolicy({ out: 'c.json', encryptTo: [], expiresIn: undefined, now })).toEqual({
      encryptTo: [],
    });
  });

  it('requireEncryption refuses an export without recipients, whatever the file name', () => {
    for (const out of ['c.json', 'c.json.age']) {
      expect(() =>
        resolveCapsulePolicy({
          out,
          encryptTo: [],
          expiresIn: undefined,
          manifest: { requireEncryption: true },
        }),
      ).toThrow(/capsule\.requireEncryption: refusing an unencrypted export/);
    }
    expect(
      resolveCapsulePolicy({
        out: 'c.json.age',
        encryptTo: [b],
        expiresIn: undefined,
        manifest: { requireEncryption: true },
      }).encryptTo,
    ).toEqual([b]);
  });

  it('the file name must say .age exactly when encrypting, naming where the recipients came from', () => {
    expect(() =>
      resolveCapsulePolicy({
        out: 'c.json',
        encryptTo: [],
        expiresIn: undefined,
        manifest: { encryptTo: [a] },
      }),
    ).toThrow(/must end with \.age .*the manifest capsule\.encryptTo/);
    expect(() => resolveCapsulePolicy({ out: 'c.json', encryptTo: [b], expiresIn: undefined })).toThrow(
      /must end with \.age .*--encrypt-to/,
    );
    expect(() => resolveCapsulePolicy({ out: 'c.json.age', encryptTo: [], expiresIn: undefined })).toThrow(
      /ends with \.age but no --encrypt-to/,
    );
  });
});
