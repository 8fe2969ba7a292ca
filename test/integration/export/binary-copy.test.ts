import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import pg from 'pg';
import copyStreams from 'pg-copy-streams';
import { describe, expect } from 'vitest';

import { copyOut } from '../../../src/export/copy-out.js';
import { wrapInCopy } from '../../../src/graph/export-sql.js';
import { dbTest } from '../../setup/database.js';
import { exportOwner, ownerManifest } from '../../setup/export-owner.js';
import { useTempDir } from '../../setup/temp-dir.js';

let dir: string;
useTempDir('binary-copy-', (path) => (dir = path));

function collector() {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      callback();
    },
  });
  return { stream, bytes: () => Buffer.concat(chunks) };
}

// What the export's queries select: the row's JSON text (a lossy-value prefix on some), then key tuples
// as json array text or NULL. Rows of every size, a few longer than a socket read, JSON escapes of every
// kind, multibyte text.
const rows = `
  select case when i % 11 = 0 then chr(4) || '0,' else '' end || jsonb_build_object(
           'i', i,
           's', repeat(chr(97 + i % 26) || 'ü✓', case when i % 997 = 0 then 120000 else i % 300 end),
           'e', E'quote " backslash \\\\ tab \\t newline \\n nul-ish \\u0001 \\u0002 end',
           'n', case when i % 7 = 0 then null else i * 1.5 end)::text,
         case when i % 5 = 0 then null else '[' || i || ', "k' || i % 3 || '"]' end,
         case when i % 3 = 0 then null else '[' || to_json('é' || i)::text || ']' end
  from generate_series(1, 20000) i`;
const csv = (select: string) =>
  `copy (${select}) to stdout with (format csv, delimiter E'\\x02', quote E'\\x01')`;

describe('binary COPY read as lines (export/binary-lines.ts)', () => {
  dbTest(
    'gives the bytes the CSV form with 0x02 and 0x01 gives, for the columns the export selects',
    async ({ db }) => {
      const client = new pg.Client({ connectionString: db.url.connectionString() });
      await client.connect();
      try {
        const ours = collector();
        await copyOut(client, wrapInCopy({ text: rows }).text, ours.stream, {
          binaryLines: { columns: 3, table: 'rows' },
        });
        const theirs = collector();
        await pipeline(client.query(copyStreams.to(csv(rows))), theirs.stream);
        expect(ours.bytes().length).toBeGreaterThan(3_000_000);
        expect(ours.bytes().equals(theirs.bytes())).toBe(true);
        // No rows: no line at all.
        const empty = collector();
        await copyOut(client, wrapInCopy({ text: 'select 1::text where false' }).text, empty.stream, {
          binaryLines: { columns: 1, table: 'empty' },
        });
        expect(empty.bytes().length).toBe(0);
        expect((await client.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
      } finally {
        await client.end();
      }
    },
  );

  dbTest('refuses a COPY that is not binary, with one line, and nothing hangs', async ({ db }) => {
    const refusal = async (sql: string) => {
      const client = new pg.Client({ connectionString: db.url.connectionString() });
      client.on('error', () => {});
      await client.connect();
      try {
        return String(
          await copyOut(client, sql, collector().stream, { binaryLines: { columns: 1, table: 't' } }).catch(
            (caught: unknown) => caught,
          ),
        );
      } finally {
        await client.end().catch(() => {});
      }
    };
    expect(await refusal(`copy (select repeat('x', 40)) to stdout`)).toMatch(/not binary COPY output/);
    // Shorter than binary COPY's header: it ends before one could be read.
    expect(await refusal('copy (select 1::text) to stdout')).toMatch(/ended without its trailer/);
  });

  // CSV quoted what binary passes raw: a rowSql that closes its own parentheses adds a column, and is
  // refused rather than written (red team, twenty-first session).
  dbTest(
    'a rowSql that adds a column is refused with one line naming its table, no capsule',
    async ({ db }) => {
      await db.query(`
      create table parents (id int primary key, owner text not null);
      create table kids (id int primary key, owner text not null, parent_id int references parents);
      insert into parents values (1, 'me');
      insert into kids values (1, 'me', 1);`);
      const escaping = `to_jsonb(t.*)::text || chr(2) || ''), ('{}'`;
      const mine = 't.owner = (select owner from params)';
      for (const closure of [false, true]) {
        const manifest = ownerManifest('escape', {
          ...(closure ? { closure: 'parents' } : {}),
          tables: [
            { name: 'parents', where: mine },
            { name: 'kids', where: mine, rowSql: escaping },
          ],
        });
        const out = join(dir, `escape-${closure}.json`);
        const error = await exportOwner(db, manifest, out).catch((caught: unknown) => caught);
        // With closure, parents is completed by one query joining kids' (no key column on kids' rows).
        expect(String(error)).toContain('tables[kids]: its query returned 2 columns, not 1');
        expect((error as { exitCode?: number }).exitCode).toBe(2);
        expect(existsSync(out)).toBe(false);
      }
    },
  );
});
