import fc from 'fast-check';
import { expect } from 'vitest';

import { canonicalJson, numericText } from '../../../src/materialize/canonical-json.js';
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
            coalesce(sum(('x' || left(md5((d::jsonb)::text), 13))::bit(52)::bigint) over (), 0)::text as h
       from unnest($1::text[]) with ordinality as x(d, i) order by i`,
      [texts],
    );
    expect(texts.map((text) => canonicalJson(text))).toEqual(server.map((row) => row.t));
    const digest = new DigestAccumulator();
    for (const text of texts) digest.add(canonicalJson(text));
    expect(digest.digest()).toEqual({ rows: texts.length, sum: server[0]!.h });
  },
);
