import { describe, expect, it } from 'vitest';

import { registerSecret, scrubSecrets } from '../../../src/secrets.js';

// #13 item 4: the scrubber also catches the encoded forms of a secret it holds.
describe('scrubSecrets catches encoded secrets', () => {
  const password = 'pr0d-S3cret/with+odd=chars';
  registerSecret(password);
  const url = `postgres://app:${encodeURIComponent(password)}@db.internal:5432/app`;

  it.each([0, 1, 2, 3, 7])('base64 of a URL holding it (prefix of %i bytes)', (pad) => {
    const encoded = Buffer.from(`${'x'.repeat(pad)}${url}`).toString('base64');
    const scrubbed = scrubSecrets(`token=${encoded}`);
    expect(scrubbed).toContain('***');
    expect(Buffer.from(scrubbed.slice('token='.length), 'base64').toString()).not.toContain(password);
  });

  it('URL-safe base64 and URL encoding', () => {
    expect(scrubSecrets(Buffer.from(url).toString('base64url'))).toContain('***');
    expect(scrubSecrets(url)).not.toContain(encodeURIComponent(password));
  });
});
