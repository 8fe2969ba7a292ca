import type { ManifestError } from '../errors.js';
import type { ParsedManifest } from '../manifest/index.js';
import { type DoctorCheck, fail, pass, warn } from './check.js';
import { unknownManifestKeys } from './unknown-keys.js';

/** Which manifest check a JSON pointer belongs to, so loader problems land on the right line. */
const pointerChecks: Array<[RegExp, string, string]> = [
  [/^\/adapter/, 'manifest.adapter', 'adapter'],
  [/^\/subjectKeys/, 'manifest.subject-keys', 'subject keys'],
  [/^\/localSubject/, 'manifest.subject-keys', 'local subject'],
  [/^\/postgres\/tableOrder/, 'manifest.table-order', 'table order'],
  [/^\/postgres\/tables/, 'manifest.tables', 'tables'],
  [/^\/postgres\/graphEdges/, 'manifest.graph-edges', 'graph edges'],
  [/^\/redactionRules/, 'manifest.redaction', 'redaction rules'],
  [/^\/(commands|probes)/, 'manifest.run-loop', 'commands and probes'],
];

/**
 * A manifest the loader rejected, as one `fail` line per problem (instead of one error that stops
 * doctor). Problems arrive as `file: /pointer: message`.
 */
export function manifestErrorChecks(error: ManifestError): DoctorCheck[] {
  const problems = error.problems.length > 0 ? error.problems : [error.message];
  return problems.map((problem) => {
    const pointer = /^.*?: (\/\S*): /.exec(problem)?.[1] ?? '';
    const [, id, name] = pointerChecks.find(([pattern]) => pattern.test(pointer)) ?? [
      undefined,
      'manifest.load',
      'manifest',
    ];
    return fail(id, name, problem);
  });
}

/**
 * Checks on a manifest that loaded: what it declares, what it leaves out, and what probably does not
 * do what its author meant. Needs no database. `deletePredicate` is judged with the database (whether
 * the table has a primary key decides warn or pass), see `deletePredicateChecks`.
 */
export function manifestChecks(manifest: ParsedManifest): DoctorCheck[] {
  const checks: DoctorCheck[] = [
    pass('manifest.load', 'manifest', `${manifest.appId} loads and validates`),
    pass('manifest.adapter', 'adapter', manifest.adapter),
    pass('manifest.subject-keys', 'subject keys', manifest.subjectKeys.join(', ')),
    pass(
      'manifest.tables',
      'tables',
      `${manifest.postgres.tables.length} declared: ${manifest.postgres.tableOrder.join(', ')}`,
    ),
  ];
  const raw = manifest.raw.postgres;
  checks.push(
    raw.tableOrder
      ? pass('manifest.table-order', 'table order', `lists only declared tables`)
      : pass('manifest.table-order', 'table order', 'not given; tables load in declaration order'),
  );
  checks.push(
    manifest.postgres.graphEdges.length > 0
      ? pass('manifest.graph-edges', 'graph edges', `${manifest.postgres.graphEdges.length} declared`)
      : warn(
          'manifest.graph-edges',
          'graph edges',
          'none: the graph is the subject alone, no related subjects are exported',
        ),
  );
  checks.push(
    manifest.redactionRules.length > 0
      ? pass('manifest.redaction', 'redaction rules', `${manifest.redactionRules.length} rule(s)`)
      : warn(
          'manifest.redaction',
          'redaction rules',
          'none: a "safe" export copies every value as it is in production; add redactionRules for emails, tokens, secrets',
        ),
  );
  const commands = manifest.commands.length;
  const probes = manifest.probes.length;
  checks.push(
    commands + probes > 0
      ? pass('manifest.run-loop', 'commands and probes', `${commands} command(s), ${probes} probe(s)`)
      : warn(
          'manifest.run-loop',
          'commands and probes',
          'none: run would materialize and judge nothing; add commands (tests) or probes',
        ),
  );
  for (const warning of manifest.warnings) {
    // The loader's deletePredicate warning is replaced by doctor's own check, which knows the primary key.
    if (/has no deletePredicate/.test(warning)) continue;
    checks.push(warn('manifest.warning', 'manifest', warning));
  }
  for (const pointer of unknownManifestKeys(manifest.raw)) {
    checks.push(
      warn('manifest.unknown-key', 'unknown key', `${pointer} is not a manifest field and is ignored`),
    );
  }
  return checks;
}

/**
 * Tables without a deletePredicate. Decision: a `fail` when a foreign key from it leads to a table with
 * a deletePredicate (`blockers`, see reload-blockers.ts: the second load would fail); else with a
 * primary key (known from the database) a reload replaces the capsule's rows by key, so it is a
 * `pass`; without one, or without a database to tell, a `warn`: rows the graph no longer has stay in
 * the replay database.
 */
export function deletePredicateChecks(
  manifest: ParsedManifest,
  primaryKeys: ReadonlyMap<string, string[]> | undefined,
  blockers: ReadonlyMap<string, string> = new Map(),
): DoctorCheck[] {
  return (
    manifest.postgres.tables
      // A table missing from the database is reported by the table check; nothing to add here.
      .filter((table) => !table.deletePredicate && (!primaryKeys || primaryKeys.has(table.name)))
      .map((table) => {
        const id = `manifest.delete-predicate.${table.name}`;
        const name = `tables[${table.name}].deletePredicate`;
        const blocker = blockers.get(table.name);
        if (blocker) return fail(id, name, blocker);
        const key = primaryKeys?.get(table.name);
        if (key && key.length > 0) {
          return pass(id, name, `none; reloads replace rows by primary key (${key.join(', ')})`);
        }
        if (!primaryKeys) {
          return warn(
            id,
            name,
            'none; reloads replace rows by primary key only (no database to confirm one exists)',
          );
        }
        return warn(
          id,
          name,
          'none and no primary key: reloads cannot clear or replace old rows, they would be duplicated',
        );
      })
  );
}
