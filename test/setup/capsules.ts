import { createHash } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

/** What a test capsule holds; rows may be objects (serialised compactly) or exact JSON texts. */
export interface TestCapsule {
  app?: string;
  adapter?: string;
  subject?: Record<string, string>;
  graph?: Record<string, unknown>[];
  tables: Record<string, (Record<string, unknown> | string)[]>;
  /** Extra header keys (exportedAt, window, redaction, source, …). */
  extra?: Record<string, unknown>;
  /** false: no integrity trailer (like the original tool); default: computed from the rows. */
  integrity?: false | Record<string, unknown>;
}

const defaults = {
  app: 'shop',
  adapter: 'postgres-subject-graph.v1',
  subject: { shop_id: 's1', customer_id: 'c1' },
};

function rowText(row: Record<string, unknown> | string): string {
  return typeof row === 'string' ? row : JSON.stringify(row);
}

/** The integrity trailer (`sha256-rows-v1`) of some tables, as the format defines it. */
export function integrityOf(tables: TestCapsule['tables']): Record<string, unknown> {
  const out: Record<string, { rows: number; sha256: string }> = {};
  for (const [name, rows] of Object.entries(tables)) {
    const hash = createHash('sha256');
    for (const row of rows) hash.update(`${rowText(row)}\n`);
    out[name] = { rows: rows.length, sha256: hash.digest('hex') };
  }
  return { algorithm: 'sha256-rows-v1', tables: out };
}

/**
 * A capsule in replay-env's line layout, written independently of src/capsule/writer.ts from
 * docs/capsule-format.md, so the reader is tested against the documented format, not the writer.
 */
export function lineCapsuleText(capsule: TestCapsule): string {
  const subject = capsule.subject ?? defaults.subject;
  const graph = capsule.graph ?? [{ ...subject, reasons: ['subject'] }];
  const lines = ['{', '  "schemaVersion": 1,', '  "layout": "replay-env/rows-per-line/v1",'];
  const header = {
    app: capsule.app ?? defaults.app,
    adapter: capsule.adapter ?? defaults.adapter,
    ...capsule.extra,
    subject,
  };
  for (const [key, value] of Object.entries(header))
    lines.push(`  ${JSON.stringify(key)}: ${JSON.stringify(value)},`);
  lines.push('  "graph": [');
  graph.forEach((entry, i) => lines.push(`    ${JSON.stringify(entry)}${i < graph.length - 1 ? ',' : ''}`));
  lines.push('  ],', '  "tables": {');
  const names = Object.keys(capsule.tables);
  names.forEach((name, t) => {
    lines.push(`    ${JSON.stringify(name)}: [`);
    const rows = capsule.tables[name]!;
    rows.forEach((row, i) => lines.push(`      ${rowText(row)}${i < rows.length - 1 ? ',' : ''}`));
    lines.push(t < names.length - 1 ? '    ],' : '    ]');
  });
  const integrity = capsule.integrity === undefined ? integrityOf(capsule.tables) : capsule.integrity;
  if (integrity === false) lines.push('  }', '}');
  else lines.push('  },', `  "integrity": ${JSON.stringify(integrity)}`, '}');
  return `${lines.join('\n')}\n`;
}

/** The same capsule as one ordinary JSON document (pretty-printed, `tables` first, like the original). */
export function genericCapsuleText(capsule: TestCapsule): string {
  const subject = capsule.subject ?? defaults.subject;
  const document = {
    app: capsule.app ?? defaults.app,
    tables: Object.fromEntries(
      Object.entries(capsule.tables).map(([name, rows]) => [
        name,
        rows.map((row) => (typeof row === 'string' ? (JSON.parse(row) as unknown) : row)),
      ]),
    ),
    graph: capsule.graph ?? [{ reasons: ['subject'], ...subject }],
    adapter: capsule.adapter ?? defaults.adapter,
    subject,
    ...capsule.extra,
    schemaVersion: 1,
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}

/** A fresh temp directory for capsule files. */
export async function capsuleDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'replay-env-capsule-'));
}

/** Writes text (gzip-compressed when asked) to `dir/name`; returns the path. */
export async function writeCapsuleFile(
  dir: string,
  name: string,
  text: string | Buffer,
  options: { gzip?: boolean } = {},
): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, options.gzip ? gzipSync(text) : text);
  return path;
}

/**
 * A line-layout capsule file of `app` for one subject (its graph: the subject alone) holding `tables`;
 * returns its path.
 */
export async function writeSubjectCapsule(
  app: string,
  subject: Record<string, string>,
  tables: TestCapsule['tables'],
): Promise<string> {
  const text = lineCapsuleText({ app, subject, graph: [{ ...subject, reasons: ['subject'] }], tables });
  return writeCapsuleFile(await capsuleDir(), `${app}.json`, text);
}

/** Anything with `query` (a TestDatabase). */
interface Queryable {
  query<T extends Record<string, unknown> = Record<string, unknown>>(
    sql: string,
    values?: unknown[],
  ): Promise<T[]>;
}

/** `to_jsonb` of every row of each table, as parsed JSON, sorted by its text: a comparable dump. */
export async function dumpTables(
  db: Queryable,
  tables: readonly string[],
): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const table of tables) {
    const rows = await db.query<{ row: unknown }>(
      `select to_jsonb(t) as row from ${table} t order by to_jsonb(t)::text`,
    );
    out[table] = rows.map((row) => row.row);
  }
  return out;
}

/**
 * Row texts of `table` as Postgres renders them (`to_jsonb(t)::text`, what export writes), optionally
 * filtered by a `where` over alias `t`.
 */
export async function rowTexts(db: Queryable, table: string, where = 'true'): Promise<string[]> {
  const rows = await db.query<{ text: string }>(
    `select to_jsonb(t)::text as text from ${table} t where ${where} order by to_jsonb(t)::text`,
  );
  return rows.map((row) => row.text);
}

/** A customers row of the original tool's fixture schema (test/fixtures/original-tool): shop s1, customer c1. */
export const shopCustomer = {
  shop_id: 's1',
  customer_id: 'c1',
  name: 'Ada',
  email: null,
  api_key: '',
  profile: {},
  joined_on: null,
};

/** An orders row of `shopCustomer` (id 1, no items, no tags). */
export const shopOrder = {
  id: 1,
  shop_id: 's1',
  customer_id: 'c1',
  items: [],
  total: 1.5,
  tags: [] as (string | null)[],
  receipt: null,
  placed_at: '2026-01-05T10:00:00+00:00',
  local_time: null,
};

/** `count` orders rows of `shopCustomer` (ids from 1000), for capsules big enough to interrupt a load. */
export function bulkOrders(count: number): Record<string, unknown>[] {
  return Array.from({ length: count }, (_, i) => ({
    id: 1000 + i,
    shop_id: 's1',
    customer_id: 'c1',
    items: [{ sku: `S${i}`, qty: i % 7 }],
    total: (i % 1000) / 100,
    tags: ['bulk', `t${i % 13}`],
    receipt: null,
    placed_at: '2026-01-05T10:00:00+00:00',
    local_time: null,
  }));
}
