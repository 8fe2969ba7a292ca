import { describe, expect, it } from 'vitest';

import { transactionModesOf, wholeSessionReadOnly } from './transaction-modes.js';

describe('transactionModesOf', () => {
  it.each([
    ['BEGIN READ ONLY', { scope: 'transaction', readOnly: true }],
    [
      'start transaction isolation level serializable, read only, deferrable',
      { scope: 'transaction', readOnly: true, deferrable: true },
    ],
    [
      'SET TRANSACTION READ WRITE, NOT DEFERRABLE',
      { scope: 'transaction', readOnly: false, deferrable: false },
    ],
    ['set session characteristics as transaction read only', { scope: 'session', readOnly: true }],
    ["SET default_transaction_read_only = 'on'", { scope: 'session', readOnly: true }],
    ['set default_transaction_deferrable to off', { scope: 'session', deferrable: false }],
    ['begin /* read only */', undefined],
    ['begin isolation level read committed', undefined],
    ['set local default_transaction_read_only = on', undefined],
    ['select 1', undefined],
  ])('%s', (statement, expected) => {
    expect(transactionModesOf(statement)).toEqual(expected);
  });
});

describe('wholeSessionReadOnly', () => {
  it('needs every transaction READ ONLY and only reads or settings outside them', () => {
    expect(wholeSessionReadOnly(['set search_path = x', 'begin read only', 'select 1', 'commit'])).toEqual({
      readOnly: true,
      deferrable: false,
    });
    expect(
      wholeSessionReadOnly([
        'begin',
        'set transaction isolation level serializable, read only, deferrable',
        'commit',
      ]),
    ).toEqual({ readOnly: true, deferrable: true });
    expect(wholeSessionReadOnly(['begin read only', 'commit', 'insert into t values (1)']).readOnly).toBe(
      false,
    );
    expect(wholeSessionReadOnly(['begin read only', 'commit', 'begin', 'select 1', 'commit']).readOnly).toBe(
      false,
    );
    expect(wholeSessionReadOnly(['select 1']).readOnly).toBe(false);
    expect(
      wholeSessionReadOnly([
        'set default_transaction_read_only = on',
        'begin',
        'commit',
        'insert into t values (1)',
      ]).readOnly,
    ).toBe(true);
  });
});
