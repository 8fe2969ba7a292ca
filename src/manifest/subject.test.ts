import { describe, expect, it } from 'vitest';

import { SubjectError } from '../errors.js';
import { parseSubject, parseSubjectRewrite, subjectLabel } from './subject.js';

const keys = ['tenant_id', 'user_id'];

/** The error a call throws, so message, hint and code can be checked together. */
function thrown(call: () => unknown): SubjectError {
  try {
    call();
  } catch (error) {
    expect(error).toBeInstanceOf(SubjectError);
    return error as SubjectError;
  }
  throw new Error('expected a SubjectError');
}

describe('parseSubject', () => {
  it('returns the keys in manifest order, values verbatim (spaces, "=", quotes kept)', () => {
    expect(parseSubject(['user_id= a=b ', "tenant_id=o'hara"], keys)).toEqual({
      tenant_id: "o'hara",
      user_id: ' a=b ',
    });
    expect(Object.keys(parseSubject(['user_id=u', 'tenant_id=t'], keys))).toEqual(keys);
  });

  it('trims the key, not the value', () => {
    expect(parseSubject([' tenant_id =t', 'user_id=u'], keys)).toEqual({ tenant_id: 't', user_id: 'u' });
  });

  it.each([
    [['tenant_id'], '--subject "tenant_id" must be key=value', 'subject keys: tenant_id, user_id'],
    [['=x'], '--subject "=x" must be key=value', 'subject keys: tenant_id, user_id'],
    [['org=x'], '--subject key "org" is not a subject key of this app', 'subject keys: tenant_id, user_id'],
    [['tenant_id=a', 'tenant_id=b'], '--subject key "tenant_id" is given twice', undefined],
    [['tenant_id=a', 'tenant_id='], '--subject key "tenant_id" is given twice', undefined],
    [['tenant_id=', 'user_id=u'], '--subject "tenant_id" has an empty value', undefined],
    [['tenant_id=t'], '--subject is missing "user_id"', 'pass --subject tenant_id=… --subject user_id=…'],
    [[], '--subject is missing "tenant_id", "user_id"', 'pass --subject tenant_id=… --subject user_id=…'],
  ])('%j → %s', (pairs, message, hint) => {
    const error = thrown(() => parseSubject(pairs, keys));
    expect(error.message).toBe(message);
    expect(error.hint).toBe(hint);
    expect(error.code).toBe('subject_invalid');
    expect(error.exitCode).toBe(2);
  });

  it('names the flag it parses', () => {
    expect(thrown(() => parseSubject(['x'], keys, '--as')).message).toBe('--as "x" must be key=value');
  });
});

describe('parseSubjectRewrite', () => {
  it('accepts any non-empty subset of the subject keys; the last value of a key wins', () => {
    expect(parseSubjectRewrite(['user_id=u2'], keys)).toEqual({ user_id: 'u2' });
    expect(parseSubjectRewrite(['user_id=a', 'user_id=b'], keys)).toEqual({ user_id: 'b' });
    expect(parseSubjectRewrite([], keys)).toEqual({});
  });

  it.each([
    [['user_id'], '--rewrite-subject "user_id" must be key=value', undefined],
    [
      ['org=x'],
      '--rewrite-subject key "org" is not a subject key of this app',
      'subject keys: tenant_id, user_id',
    ],
    [['user_id='], '--rewrite-subject "user_id" has an empty value', undefined],
  ])('%j → %s', (pairs, message, hint) => {
    const error = thrown(() => parseSubjectRewrite(pairs, keys));
    expect(error.message).toBe(message);
    expect(error.hint).toBe(hint);
  });
});

describe('subjectLabel', () => {
  it('joins key=value pairs with commas', () => {
    expect(subjectLabel({ tenant_id: 't1', user_id: 'u7' })).toBe('tenant_id=t1,user_id=u7');
  });
});
