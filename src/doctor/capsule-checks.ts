import { parse as parseLossless } from 'lossless-json';
import type pg from 'pg';

import { openCapsule } from '../capsule/index.js';
import { isReplayEnvError } from '../errors.js';
import type { ParsedManifest } from '../manifest/index.js';
import type { ForeignKeyInfo, TableInfo } from '../postgres/catalog.js';
import { ClosureCollector, type ClosureKey } from './capsule-closure.js';
import { capsuleColumnChecks } from './capsule-columns.js';
import { type DoctorCheck, fail, pass, warn } from './check.js';

export interface CapsuleCheckOptions {
  manifest: ParsedManifest;
  capsule: string;
  /** With a database: the connection, declared tables that exist, and their foreign keys. */
  database?: { client: pg.Client; tables: ReadonlyMap<string, TableInfo>; foreignKeys: ForeignKeyInfo[] };
}

/**
 * `--capsule`: does this capsule fit this manifest and replay database? App and subject keys, integrity
 * (counts and hashes, verified while streaming), columns the target lacks, and referential closure: every
 * foreign-key value in its rows must resolve to a row in the capsule or already in the replay database.
 * Streams the capsule once; memory grows with distinct key values and column names, not rows.
 */
export async function capsuleChecks(options: CapsuleCheckOptions): Promise<DoctorCheck[]> {
  const { manifest } = options;
  let reader;
  try {
    reader = await openCapsule(options.capsule);
  } catch (error) {
    if (!isReplayEnvError(error)) throw error;
    return [fail('capsule.open', 'capsule', error.message)];
  }
  const header = reader.header;
  const checks: DoctorCheck[] = [];
  checks.push(
    header.app === manifest.appId
      ? pass('capsule.app', 'capsule app', `${header.app}, as the manifest`)
      : fail(
          'capsule.app',
          'capsule app',
          `capsule is of app "${header.app}", the manifest is "${manifest.appId}"`,
        ),
  );
  const capsuleKeys = Object.keys(header.subject);
  const sameKeys =
    capsuleKeys.length === manifest.subjectKeys.length &&
    manifest.subjectKeys.every((key) => capsuleKeys.includes(key));
  if (!sameKeys) {
    checks.push(
      fail(
        'capsule.subject-keys',
        'capsule subject',
        `capsule subject keys ${capsuleKeys.join(', ')} differ from the manifest's ${manifest.subjectKeys.join(', ')}`,
      ),
    );
  }

  const declared = new Set(manifest.postgres.tableOrder);
  const closure = options.database
    ? new ClosureCollector(closureKeys(manifest, options.database))
    : undefined;
  const columns = new Map<string, Set<string>>();
  try {
    for await (const { table, text } of reader.rows()) {
      if (!declared.has(table)) continue;
      const exact = closure?.wants(table) ?? false;
      const row = (exact ? parseLossless(text) : JSON.parse(text)) as Record<string, unknown>;
      let seen = columns.get(table);
      if (!seen) columns.set(table, (seen = new Set()));
      for (const column of Object.keys(row)) seen.add(column);
      if (exact) closure!.add(table, row);
    }
  } catch (error) {
    if (!isReplayEnvError(error)) throw error;
    checks.push(fail('capsule.integrity', 'capsule integrity', error.message));
    return checks;
  }
  const summary = reader.summary();
  const rows = Object.values(summary.rowCounts).reduce((sum, count) => sum + count, 0);
  checks.push(
    pass(
      'capsule.integrity',
      'capsule integrity',
      `${summary.integrity.status}: ${rows} row(s) in ${Object.keys(summary.rowCounts).length} table(s)`,
    ),
  );
  // materialize refuses a capsule with any table the manifest does not declare, even an empty one.
  for (const [table, count] of Object.entries(summary.rowCounts)) {
    if (declared.has(table)) continue;
    checks.push(
      fail(
        `capsule.undeclared.${table}`,
        `capsule table ${table}`,
        `${count} row(s) of a table the manifest does not declare: materialize refuses the capsule`,
      ),
    );
  }
  if (!options.database) {
    checks.push(
      warn(
        'capsule.closure',
        'capsule references',
        'not checked: foreign keys and existing rows come from the replay database (pass --db-url)',
      ),
    );
    return checks;
  }
  checks.push(...capsuleColumnChecks(columns, options.database.tables));
  try {
    checks.push(...(await closure!.finish(options.database.client)));
  } catch (error) {
    if (!isReplayEnvError(error)) throw error;
    checks.push(fail('capsule.closure', 'capsule references', error.message));
  }
  return checks;
}

/** Foreign keys whose child is an exported table that exists; parents mapped to manifest names. */
function closureKeys(
  manifest: ParsedManifest,
  database: { tables: ReadonlyMap<string, TableInfo>; foreignKeys: ForeignKeyInfo[] },
): ClosureKey[] {
  const byRegclass = new Map<string, string>();
  for (const name of manifest.postgres.tableOrder) {
    const info = database.tables.get(name);
    if (info) byRegclass.set(info.regclass, name);
  }
  const position = new Map(manifest.postgres.tableOrder.map((name, index) => [name, index]));
  return database.foreignKeys
    .flatMap((fk) => {
      const child = byRegclass.get(fk.table);
      return child === undefined ? [] : [{ fk, child, parent: byRegclass.get(fk.referencedTable) }];
    })
    .sort((a, b) => position.get(a.child)! - position.get(b.child)!); // report in load order
}
