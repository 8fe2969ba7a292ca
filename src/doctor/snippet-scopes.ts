import type { ParsedManifest } from '../manifest/index.js';
import { parseTableName, sameTableName } from '../postgres/identifiers.js';
import { relationAliases } from './sql-references.js';

/** What an alias in a snippet stands for. */
export type Binding =
  | { kind: 'table'; relation: string }
  /** `graph_keys` and `params`: doctor knows their columns without a database. */
  | { kind: 'virtual'; relation: 'graph_keys' | 'params'; columns: string[] }
  /** Bound to two different relations in one snippet: doctor cannot tell which one a reference means. */
  | { kind: 'ambiguous' };

/** One manifest SQL snippet with the aliases visible in it. */
export interface SnippetScope {
  /** Where it is in the manifest, as labels in generated SQL: `tables[orders].where`. */
  label: string;
  /** The declared table it belongs to, if any. */
  table: string | undefined;
  sql: string;
  aliases: Map<string, Binding>;
}

/**
 * Every manifest SQL snippet with its aliases resolved as far as the text allows: a table's own alias,
 * `<relation> <alias>` pairs from its `from` (and any subquery in the snippet), `t`/`g` in a
 * deletePredicate, and `params`/`graph_keys` wherever they are named.
 */
export function snippetScopes(manifest: ParsedManifest): SnippetScope[] {
  const keys = manifest.subjectKeys;
  const virtual = (relation: string): Binding | undefined =>
    relation === 'graph_keys'
      ? { kind: 'virtual', relation, columns: keys }
      : relation === 'params'
        ? { kind: 'virtual', relation, columns: [...keys, 'since_at'] }
        : undefined;
  const bind = (aliases: Map<string, Binding>, alias: string, relation: string, baseName: string) => {
    const binding = virtual(baseName.toLowerCase()) ?? { kind: 'table', relation };
    const existing = aliases.get(alias);
    if (!existing) aliases.set(alias, binding);
    else if (!sameBinding(existing, binding)) aliases.set(alias, { kind: 'ambiguous' });
  };
  const withDeclared = (aliases: Map<string, Binding>, sql: string, startInFrom = false) => {
    for (const found of relationAliases(sql, { startInFrom })) {
      bind(aliases, found.alias, found.relation, found.baseName);
    }
  };

  const scopes: SnippetScope[] = [];
  manifest.postgres.graphEdges.forEach((sql, index) => {
    const aliases = new Map<string, Binding>();
    withDeclared(aliases, sql);
    scopes.push({ label: `graphEdges[${index}]`, table: undefined, sql, aliases });
  });
  for (const table of manifest.postgres.tables) {
    const aliases = new Map<string, Binding>();
    bind(aliases, table.alias.toLowerCase(), table.name, baseName(table.name));
    withDeclared(aliases, table.from, true);
    for (const sql of [table.where, table.orderBy, table.rowSql]) if (sql) withDeclared(aliases, sql);
    const fields = ['from', 'where', 'orderBy', 'rowSql'] as const;
    for (const field of fields) {
      const sql = table[field];
      if (sql) scopes.push({ label: `tables[${table.name}].${field}`, table: table.name, sql, aliases });
    }
    if (table.deletePredicate) {
      const predicateAliases = new Map<string, Binding>();
      bind(predicateAliases, 't', table.name, baseName(table.name));
      bind(predicateAliases, 'g', 'graph_keys', 'graph_keys');
      withDeclared(predicateAliases, table.deletePredicate);
      scopes.push({
        label: `tables[${table.name}].deletePredicate`,
        table: table.name,
        sql: table.deletePredicate,
        aliases: predicateAliases,
      });
    }
  }
  return scopes;
}

function sameBinding(a: Binding, b: Binding): boolean {
  if (a.kind === 'table' && b.kind === 'table') return sameTableName(a.relation, b.relation);
  if (a.kind === 'virtual' && b.kind === 'virtual') return a.relation === b.relation;
  return false;
}

/** The relation names the scopes refer to, for one catalog lookup. */
export function referencedRelations(scopes: readonly SnippetScope[]): string[] {
  const names = new Set<string>();
  for (const scope of scopes) {
    for (const binding of scope.aliases.values()) if (binding.kind === 'table') names.add(binding.relation);
  }
  return [...names];
}

/** The table part of a manifest name, resolved (`billing."Invoices"` → `Invoices`). */
function baseName(name: string): string {
  const parsed = parseTableName(name);
  return typeof parsed === 'string' ? name : parsed.name;
}
