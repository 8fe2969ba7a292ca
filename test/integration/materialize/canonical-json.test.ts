import fc from 'fast-check';
import { expect } from 'vitest';

import { canonicalJson, numericText } from '../../../src/materialize/canonical-json.js';
import { hashBytesExtended, hashTextExtended, type RowHash } from '../../../src/materialize/row-hash.js';
import { DigestAccumulator } from '../../../src/materialize/value-digest.js';
import { dbTest } from '../../setup/database.js';

/** The client's canonical text must be the server's `::jsonb::text`, byte for byte (value verification). */
dbTest(
  'canonical JSON text equals what PostgreSQL prints for jsonb, for random documents',
  async ({ db }) => {
    const numbers = [
      '0',
      '-0',
      '-0.00',
      '1.50',
      '1e2',
      '1.0E+2',
      '1.5e-1',
      '-12.345e1',
      '0.001e3',
      '5E-3',
      '7e-0',
    ];
    const printed = await db.query<{ t: string }>(`select (n::jsonb)::text as t from unnest($1::text[]) n`, [
      numbers,
    ]);
    expect(numbers.map(numericText)).toEqual(printed.map((row) => row.t));

    const value = fc.jsonValue({ maxDepth: 3 }).filter((v) => !JSON.stringify(v).includes('\\u0000'));
    const texts = fc.sample(value, 300).map((v) => JSON.stringify(v));
    texts.push('{"é":1,"e":2,"ée":3,"aa":{"b":[1,2.50,-0]},"a":"\\u001f\\n\\"\\\\/😀\\u00e9"}');
    const server = await db.query<{ t: string; h: string }>(
      `select (d::jsonb)::text as t,
            coalesce(sum(hashtextextended((d::jsonb)::text collate "C", 0)) over (), 0)::text as h
       from unnest($1::text[]) with ordinality as x(d, i) order by i`,
      [texts],
    );
    expect(texts.map((text) => canonicalJson(text))).toEqual(server.map((row) => row.t));
    const digest = new DigestAccumulator();
    for (const text of texts) digest.add(canonicalJson(text));
    expect(digest.digest()).toEqual({ rows: texts.length, sum: server[0]!.h });
  },
);

/** The client's row hash must be the server's `hashtextextended(text, 0)` for any text, any length. */
dbTest('row hash equals hashtextextended for random texts of every length', async ({ db }) => {
  const texts = fc.sample(fc.string({ unit: 'binary', maxLength: 80 }), 400);
  for (let length = 0; length <= 40; length++) texts.push('é'.repeat(length), 'x'.repeat(length));
  // A text above the kept buffer's size (hashed in a buffer of its own), then small ones again.
  // 400 001 units: a buffer size that is not a whole number of 32-bit words must still work.
  texts.push('😀'.repeat(5000), 'é'.repeat(400_000), 'y'.repeat(400_001), 'after a huge row');
  const usable = texts.filter(
    (text) =>
      !text.includes('\u0000') &&
      !/[\ud800-\udfff]/.test(text.replace(/[\ud800-\udbff][\udc00-\udfff]/g, '')),
  );
  const server = await db.query<{ h: string }>(
    `select hashtextextended(t collate "C", 0)::text as h from unnest($1::text[]) with ordinality as x(t, i) order by i`,
    [usable],
  );
  const decimal = (hash: RowHash) => (BigInt(hash.high) * 2n ** 32n + BigInt(hash.low)).toString();
  expect(usable.map((text) => decimal(hashTextExtended(text)))).toEqual(server.map((row) => row.h));
  // The same texts hashed from their UTF-8 bytes at an offset inside a larger buffer (as the capsule
  // reader hands them out: rows one after another, each followed by a newline).
  const joined = Buffer.from(`\n${usable.join('\n')}\n`);
  let from = 1;
  const fromBytes = usable.map((text) => {
    const end = from + Buffer.byteLength(text);
    const hash = hashBytesExtended(joined, from, end);
    from = end + 1;
    return decimal(hash);
  });
  expect(fromBytes).toEqual(server.map((row) => row.h));
});
