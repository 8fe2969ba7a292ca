import { describe, expect, it } from 'vitest';

import { DatabaseUrl } from './database-url.js';
import { toDatabaseError } from './errors.js';

const url = DatabaseUrl.parse('postgresql://app:s3cret@db.example:5432/shop');

describe('toDatabaseError', () => {
  it('a query on a connection the server ended while idle: connection lost, with what to check', () => {
    const error = toDatabaseError(
      new Error('Client has encountered a connection error and is not queryable'),
      {
        url,
        action: 'export: tables[users]',
      },
    );
    expect(error.code).toBe('database_connection_lost');
    expect(error.message).toMatch(
      /^export: tables\[users\]: connection lost \(.*db\.example.*\): Client has/,
    );
    expect(error.message).not.toContain('s3cret');
    expect(error.hint).toMatch(/server ended the connection/);
  });

  it('a SQL error keeps its SQLSTATE and hint', () => {
    const error = toDatabaseError(
      Object.assign(new Error('relation "x" does not exist'), { code: '42P01' }),
      {
        url,
        action: 'export',
      },
    );
    expect(error.code).toBe('database_error');
    expect(error.sqlState).toBe('42P01');
    expect(error.hint).toMatch(/does not exist/);
  });
});
