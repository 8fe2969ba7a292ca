import { createHash } from 'node:crypto';

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import type { ParsedRedactionRule } from '../manifest/index.js';
import { createRowRedactor, jsRedactionMarker } from '../redaction/index.js';
import { frameRows, type RowFramingState } from './row-lines.js';

const rules = (recursive: boolean) =>
  [
    { fields: ['email'], action: 'hash', prefix: 'mail-', recursive },
    { fields: ['token', 'api_key'], action: 'empty', prefix: 'replay-', recursive },
    { fields: ['ip'], action: 'null', prefix: 'replay-', recursive },
  ] as ParsedRedactionRule[];

// jsonb-shaped rows: rule keys at the top, nested, twice (top and nested), as values, escaped, spelled
// with `\u`, with hashed values holding escapes and non-ASCII, numbers, null and "".
const rows = [
  '{"id": 1, "email": "a@example.com", "note": "plain"}',
  '{"id": 2, "note": "email", "tags": ["ip", "token"]}',
  '{"id": 3, "ip": "192.0.2.1", "ctx": {"client": {"ip": "198.51.100.7"}}}',
  '{"id": 4, "subject": "Ticket \\"4\\" — ça", "email": "ü\\"q\\"@example.com"}',
  '{"id": 5, "payload": {"auth": {"token": "tok-5", "scope": "w"}}, "n": 5}',
  String.raw`{"id": 6, "\u0065mail": "hidden@example.com"}`,
  '{"id": 7, "email": null, "ip": "", "token": 12.50}',
  '{"id": 8, "api_key": {"k": [1, 2]}, "email": 12345678901234567890}',
  '{"id": 9, "text": "a \\\\ b \\\\u c", "ip": "x"}',
  '{"id": 10, "email": "🚀@example.com", "ip": "192.0.2.10"}',
  String.raw`{"id": 11, "n": {"a\/b": 1, "token": "t"}}`,
  '{"id": 12, "doc": {"blocks": [{"type": "p", "text": "lorem ipsum"}]}}',
];

/** The reference: each row through redactBytes on its own (the per-row path), as frameRows must give. */
function expected(redactor: ReturnType<typeof createRowRedactor>, lines: string[]) {
  const redacted = lines.map((row) => redactor!.redactBytes(Buffer.from(row)));
  const bytes = Buffer.concat(
    redacted.flatMap((row, index) => [Buffer.from(index === 0 ? '\n      ' : ',\n      '), row]),
  );
  const hash = createHash('sha256');
  for (const row of redacted) hash.update(Buffer.concat([row, Buffer.from('\n')]));
  return { bytes, sha256: hash.digest('hex') };
}

function frame(redactor: ReturnType<typeof createRowRedactor>, text: Buffer, sizes: number[]) {
  const hash = createHash('sha256');
  const state: RowFramingState = { table: 't', rows: 0, remainder: undefined, hash, redactor };
  const out: Buffer[] = [];
  let at = 0;
  for (let k = 0; at < text.length; k++) {
    const size = sizes.length > 0 ? sizes[k % sizes.length]! : text.length;
    out.push(Buffer.from(frameRows(state, text.subarray(at, at + size))));
    at += size;
  }
  return {
    bytes: Buffer.concat(out),
    sha256: hash.digest('hex'),
    rows: state.rows,
    lossy: state.lossy ?? [],
  };
}

describe('frameRows with a redactor', () => {
  for (const recursive of [true, false]) {
    it(`gives the bytes and sha256-rows-v1 of redacting each row alone, however chunked (recursive: ${recursive})`, () => {
      const redactor = createRowRedactor(rules(recursive), 't')!;
      fc.assert(
        fc.property(
          fc.array(fc.integer({ min: 0, max: rows.length - 1 }), { minLength: 1, maxLength: 40 }),
          fc.array(fc.integer({ min: 1, max: 300 }), { maxLength: 8 }),
          (picks, sizes) => {
            const lines = picks.map((index) => rows[index]!);
            const text = Buffer.from(lines.map((line) => `${line}\n`).join(''));
            const want = expected(redactor, lines);
            const got = frame(redactor, text, sizes);
            expect(got.rows).toBe(lines.length);
            expect(got.bytes.toString()).toBe(want.bytes.toString());
            expect(got.sha256).toBe(want.sha256);
          },
        ),
        { numRuns: 200 },
      );
    });
  }

  it('redacts what it must in the rows above (the reference is not a no-op)', () => {
    const redactor = createRowRedactor(rules(true), 't')!;
    const text = Buffer.from(rows.map((line) => `${line}\n`).join(''));
    const framed = frame(redactor, text, []).bytes.toString();
    for (const secret of ['a@example.com', '198.51.100.7', 'tok-5', 'hidden@example.com', '"t"'])
      expect(framed).not.toContain(secret);
    expect(framed).toContain('"email": "mail-');
    expect(framed).toContain('"text": "a \\\\ b \\\\u c", "ip": null}');
    expect(framed).toContain('"tags": ["ip", "token"]');
  });
});

describe('frameRows with JSON-null marks (graph/lossy-values-sql.ts)', () => {
  for (const redacting of [false, true]) {
    it(`drops each row's 0x04 prefix, counts it per column, hashes the rows as written (redactor: ${redacting})`, () => {
      const redactor = redacting ? createRowRedactor(rules(true), 't') : undefined;
      fc.assert(
        fc.property(
          fc.array(
            fc.tuple(fc.integer({ min: 0, max: rows.length - 1 }), fc.subarray([0, 1, 12], { minLength: 0 })),
            { minLength: 1, maxLength: 40 },
          ),
          fc.array(fc.integer({ min: 1, max: 300 }), { maxLength: 8 }),
          (picks, sizes) => {
            const lines = picks.map(([index]) => rows[index]!);
            const marked = picks.map(([index, columns]) =>
              columns.length === 0
                ? rows[index]!
                : `\u0004${columns.map((c) => `${c},`).join('')}${rows[index]!}`,
            );
            const text = Buffer.from(marked.map((line) => `${line}\n`).join(''));
            const got = frame(redactor, text, sizes);
            const want = redactor
              ? expected(redactor, lines)
              : frame(undefined, Buffer.from(lines.map((line) => `${line}\n`).join('')), []);
            expect(got.bytes.toString()).toBe(want.bytes.toString());
            expect(got.sha256).toBe(want.sha256);
            const counts: number[] = [];
            for (const [, columns] of picks) for (const c of columns) counts[c] = (counts[c] ?? 0) + 1;
            expect(got.lossy).toEqual(counts);
          },
        ),
        { numRuns: 200 },
      );
    });
  }
});

describe('frameRows of rows redacted in SQL (redaction/redaction-sql.ts)', () => {
  it('passes unmarked rows as they are, redacts marked ones without their marker; one hash however chunked', () => {
    const redactor = createRowRedactor(rules(true), 't')!;
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: rows.length - 1 }), fc.boolean(), fc.boolean()), {
          minLength: 1,
          maxLength: 40,
        }),
        fc.array(fc.integer({ min: 1, max: 300 }), { maxLength: 8 }),
        (picks, sizes) => {
          const text = Buffer.from(
            picks
              .map(([index, marked, lossy]) => {
                const row = `${marked ? String.fromCharCode(jsRedactionMarker) : ''}${rows[index]!}`;
                return `${lossy ? '\u00040,' : ''}${row}\n`;
              })
              .join(''),
          );
          const written = picks.map(([index, marked]) =>
            marked ? redactor.redactBytes(Buffer.from(rows[index]!)) : Buffer.from(rows[index]!),
          );
          const hash = createHash('sha256');
          for (const row of written) hash.update(Buffer.concat([row, Buffer.from('\n')]));
          const state: RowFramingState = {
            table: 't',
            rows: 0,
            remainder: undefined,
            hash: createHash('sha256'),
            redactor,
            redactedInSql: true,
          };
          const out: Buffer[] = [];
          for (let at = 0, k = 0; at < text.length; k++) {
            const size = sizes.length > 0 ? sizes[k % sizes.length]! : text.length;
            out.push(Buffer.from(frameRows(state, text.subarray(at, at + size))));
            at += size;
          }
          const framed = Buffer.concat(
            written.flatMap((row, index) => [Buffer.from(index === 0 ? '\n      ' : ',\n      '), row]),
          );
          expect(Buffer.concat(out).toString()).toBe(framed.toString());
          expect((state.hash as ReturnType<typeof createHash>).digest('hex')).toBe(hash.digest('hex'));
          expect(state.rows).toBe(picks.length);
        },
      ),
      { numRuns: 200 },
    );
  });
});
