import { describe, expect, it } from 'vitest';

import { suggestRedactions } from './redaction-suggestions.js';
import type { InitTable } from './schema-catalog.js';

const table = (name: string, columns: Array<[string, string]>, primaryKey = ['id']): InitTable => ({
  name,
  columns: columns.map(([column, type]) => ({ name: column, type })),
  primaryKey,
  partitioned: false,
});

describe('suggestRedactions', () => {
  it('empties text secrets, hashes personal text for review, leaves keys, dates and non-people names alone', () => {
    const rules = suggestRedactions(
      [
        table('users', [
          ['id', 'integer'],
          ['email', 'character varying(255)'],
          ['password_hash', 'text'],
          ['api_key', 'text'],
          ['name', 'text'],
          ['birth_date', 'date'],
          ['last_ip', 'inet'],
          ['phone', 'text'],
        ]),
        table('products', [
          ['id', 'integer'],
          ['name', 'text'],
        ]),
        table('logins', [
          ['id', 'integer'],
          ['user_email', 'text'],
        ]),
      ],
      [
        {
          name: 'fk',
          child: 'logins',
          parent: 'users',
          columns: ['user_email'],
          referencedColumns: ['email'],
          deferrable: false,
        },
      ],
      'users',
    );
    expect(rules).toEqual([
      { table: 'users', fields: ['password_hash', 'api_key'], action: 'empty', review: false },
      // email is referenced by a foreign key: hashing it would break the reference, so it is left alone
      { table: 'users', fields: ['name', 'phone'], action: 'hash', review: true },
    ]);
  });
});
