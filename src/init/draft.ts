/**
 * Drafts a manifest from the catalog (`replay-env init`, docs/app-manifest.md). Pure: catalog in, manifest
 * object plus the reasoning (paths, matches, cycles, warnings) out; rendering is render-yaml.ts.
 * Longer than most modules because the rules read best side by side.
 */
import { UsageError } from '../errors.js';
import {
  manifestTableName,
  quoteIdent,
  quoteLiteral,
  quoteTable,
  tableNameProblem,
} from '../postgres/identifiers.js';
import { suggestRedactions } from './redaction-suggestions.js';
import type { InitCatalog, InitForeignKey, InitTable } from './schema-catalog.js';
import { loadOrder } from './table-order.js';

export interface DraftTable {
  name: string;
  role: 'subject' | 'owned' | 'name-matched' | 'parent' | 'reference';
  where: string;
  deletePredicate: string;
  /** Human lines for the YAML comment above the table. */
  notes: string[];
}

export interface InitDraft {
  appId: string;
  closure: 'parents' | 'parents-and-reference';
  subjectTable: string;
  subjectKeys: string[];
  /** Subject key → SQL type of the subject table's column (graph keys are text; cast back). */
  keyTypes: Record<string, string>;
  tables: DraftTable[];
  tableOrder: string[];
  orderNotes: string[];
  graphEdges: Array<{ sql: string; reason: string }>;
  redactionRules: Array<{ table: string; fields: string[]; action: 'empty' | 'hash'; review: boolean }>;
  unreachable: Array<{ table: string; why: string }>;
  warnings: string[];
}

export interface DraftOptions {
  subjectTable: string;
  subjectKeyColumns?: string[];
  schema: string;
  appId?: string;
  /** Also draft reference tables (no path to the subject table) that reference an exported table. */
  reference?: boolean;
}

export function draftManifest(catalog: InitCatalog, options: DraftOptions): InitDraft {
  const byName = new Map(catalog.tables.map((table) => [table.name, table]));
  const subject = byName.get(options.subjectTable);
  if (!subject)
    throw new UsageError(`init: no table "${options.subjectTable}" in schema "${options.schema}"`);
  const keyColumns = options.subjectKeyColumns?.length ? options.subjectKeyColumns : subject.primaryKey;
  if (keyColumns.length === 0)
    throw new UsageError(
      `init: ${subject.name} has no primary key`,
      'give the subject columns with --subject-key',
    );
  for (const column of keyColumns)
    if (!subject.columns.some((c) => c.name === column))
      throw new UsageError(`init: ${subject.name} has no column "${column}"`);
  const singular = subject.name.replace(/ies$/, 'y').replace(/s$/, '');
  const keyName = (column: string) => (column === 'id' ? `${singular}_id` : column);
  const subjectKeys = keyColumns.map(keyName);
  const keyTypes = Object.fromEntries(
    keyColumns.map((column) => [keyName(column), subject.columns.find((c) => c.name === column)!.type]),
  );
  // Catalog names are exact; the manifest writes them by its naming rule (`"Items"`, `user`, `billing.x`).
  const qualified = (name: string) =>
    manifestTableName(options.schema === 'public' ? undefined : options.schema, name);
  // Export `where`: the graph key (text) is cast to the column's type, so an index on the column serves.
  // deletePredicate: the column is compared as text — doctor plans it with a placeholder key that is not
  // a valid number, and deletes touch only the replay database.
  let typed = true;
  const eqKey = (expr: string, column: string) =>
    typed
      ? `${expr} = g.${quoteIdent(keyName(column))}::${keyTypes[keyName(column)]}`
      : `${expr}::text = g.${quoteIdent(keyName(column))}`;

  // Shortest foreign-key paths to the subject table: breadth-first from it, against the FK direction.
  const via = new Map<string, InitForeignKey[]>();
  const distance = new Map<string, number>([[subject.name, 0]]);
  let frontier = [subject.name];
  while (frontier.length > 0) {
    const next: string[] = [];
    for (const parent of frontier) {
      for (const fk of catalog.foreignKeys) {
        if (fk.parent !== parent || fk.child === parent || distance.has(fk.child)) continue;
        const direct = catalog.foreignKeys.filter((f) => f.child === fk.child && f.parent === parent);
        distance.set(fk.child, distance.get(parent)! + 1);
        via.set(fk.child, direct);
        next.push(fk.child);
      }
    }
    frontier = next;
  }

  let aliasCounter = 0;
  /** SQL true when row `alias` of `table` belongs to graph key row `g`. */
  const belongs = (table: string, alias: string): string => {
    if (table === subject.name)
      return keyColumns.map((c) => eqKey(`${alias}.${quoteIdent(c)}`, c)).join(' and ');
    const options_ = via.get(table)!.map((fk) => {
      if (fk.parent === subject.name && keyColumns.every((c) => fk.referencedColumns.includes(c))) {
        return keyColumns
          .map((c) => eqKey(`${alias}.${quoteIdent(fk.columns[fk.referencedColumns.indexOf(c)]!)}`, c))
          .join(' and ');
      }
      aliasCounter += 1;
      const p = `p${aliasCounter}`;
      const join = fk.columns
        .map((c, i) => `${p}.${quoteIdent(fk.referencedColumns[i]!)} = ${alias}.${quoteIdent(c)}`)
        .join(' and ');
      return `exists (select 1 from ${quoteTable(qualified(fk.parent))} ${p} where ${join} and ${belongs(fk.parent, p)})`;
    });
    return options_.length === 1 ? options_[0]! : `(${options_.join(' or ')})`;
  };

  const tables: DraftTable[] = [];
  const warnings: string[] = [];
  const pathOf = (table: string): string => {
    const hops: string[] = [table];
    let current = table;
    while (current !== subject.name) {
      const fk = via.get(current)![0]!;
      hops.push(`(${fk.columns.join(', ')}) → ${fk.parent}`);
      current = fk.parent;
    }
    return hops.join(' ');
  };
  const add = (name: string, role: DraftTable['role'], predicate: () => string, notes: string[]) => {
    const versions = [true, false].map((asTyped) => {
      typed = asTyped;
      aliasCounter = 0;
      return predicate();
    });
    typed = true;
    tables.push({
      name,
      role,
      where: `exists (select 1 from graph_keys g where ${versions[0]!})`,
      deletePredicate: versions[1]!,
      notes,
    });
  };
  add(subject.name, 'subject', () => belongs(subject.name, 't'), [
    `the subject table (subject keys: ${subjectKeys.join(', ')})`,
  ]);
  const owned = [...distance.keys()].filter((name) => name !== subject.name);
  for (const name of owned) {
    aliasCounter = 0;
    const alternatives = catalog.foreignKeys.filter(
      (fk) =>
        fk.child === name && fk.parent !== name && distance.has(fk.parent) && !via.get(name)!.includes(fk),
    );
    const notes = [`owned: ${pathOf(name)} (${distance.get(name)} hop(s), shortest)`];
    if (via.get(name)!.length > 1)
      notes.push(
        `references ${via.get(name)![0]!.parent} ${via.get(name)!.length} times: a row belongs if any of them does`,
      );
    for (const fk of alternatives) notes.push(`alternative path: (${fk.columns.join(', ')}) → ${fk.parent}`);
    add(name, 'owned', () => belongs(name, 't'), notes);
  }
  // No FK path, but a column named like every subject key: matched by name.
  const nameMatched = catalog.tables.filter(
    (table) =>
      !distance.has(table.name) && subjectKeys.every((key) => table.columns.some((c) => c.name === key)),
  );
  for (const table of nameMatched) {
    const predicate = () =>
      subjectKeys
        .map((key) =>
          typed
            ? `t.${quoteIdent(key)} = g.${quoteIdent(key)}::${table.columns.find((c) => c.name === key)!.type}`
            : `t.${quoteIdent(key)}::text = g.${quoteIdent(key)}`,
        )
        .join(' and ');
    add(table.name, 'name-matched', predicate, [
      `matched by column name (${subjectKeys.join(', ')}): no foreign key links it to ${subject.name}; check this is the same value`,
    ]);
  }
  // Parents of everything exported, transitively: rows come only from closure.
  const included = new Set(tables.map((table) => table.name));
  const closeOverParents = () => {
    let grew = true;
    while (grew) {
      grew = false;
      for (const fk of catalog.foreignKeys) {
        if (included.has(fk.child) && !included.has(fk.parent)) {
          included.add(fk.parent);
          tables.push({
            name: fk.parent,
            role: 'parent',
            where: 'false',
            deletePredicate: 'false',
            notes: [
              `parent (referenced by ${fk.child}.${fk.columns.join(', ')}): its rows come from closure only`,
            ],
          });
          grew = true;
        }
      }
    }
  };
  closeOverParents();
  if (options.reference) {
    // Reference tables (no path to the subject table) referencing what is exported so far: the export
    // adds their rows that reference an included row (closure: parents-and-reference), then their parents.
    const anchors = new Set(included);
    for (const table of catalog.tables) {
      const fk = catalog.foreignKeys.find((f) => f.child === table.name && anchors.has(f.parent));
      if (included.has(table.name) || !fk) continue;
      included.add(table.name);
      tables.push({
        name: table.name,
        role: 'reference',
        where: 'false',
        deletePredicate: 'false',
        notes: [
          `reference (${fk.columns.join(', ')}) → ${fk.parent}: closure adds the rows that reference an exported ${fk.parent} row`,
        ],
      });
    }
    closeOverParents();
  }
  const unreachable = catalog.tables
    .filter((table) => !included.has(table.name))
    .map((table) => ({
      table: table.name,
      why: `no foreign-key path to ${subject.name}, referenced by no exported table, no column named ${subjectKeys.join(', ')}`,
    }));
  // A manifest can name any table (postgres/identifiers.ts) except one whose name holds a control
  // character or a comment marker (it is also a label inside generated SQL comments).
  for (const table of catalog.tables) {
    const problem = included.has(table.name) ? tableNameProblem(qualified(table.name)) : undefined;
    if (problem)
      warnings.push(
        `table ${JSON.stringify(table.name)} cannot be named in a manifest (${problem}): rename the table`,
      );
  }
  const order = loadOrder(
    tables.map((table) => table.name),
    catalog.foreignKeys,
  );
  warnings.push(...order.warnings);
  const graphEdges = edgesFor(catalog, subject, keyColumns, keyName, qualified);
  const redactionRules = suggestRedactions(
    catalog.tables.filter((table) => included.has(table.name)),
    catalog.foreignKeys,
    subject.name,
  );
  for (const table of tables) table.name = qualified(table.name);
  return {
    appId: options.appId ?? catalog.database,
    closure: options.reference ? 'parents-and-reference' : 'parents',
    subjectTable: qualified(subject.name),
    subjectKeys,
    keyTypes,
    tables,
    tableOrder: order.order.map(qualified),
    orderNotes: order.notes,
    graphEdges,
    redactionRules: redactionRules.map((rule) => ({ ...rule, table: qualified(rule.table) })),
    unreachable,
    warnings,
  };
}

/** A table referencing the subject table twice (sender/recipient) links two subjects: one edge each way. */
function edgesFor(
  catalog: InitCatalog,
  subject: InitTable,
  keyColumns: string[],
  keyName: (column: string) => string,
  qualified: (name: string) => string,
): Array<{ sql: string; reason: string }> {
  const edges: Array<{ sql: string; reason: string }> = [];
  const children = new Set(
    catalog.foreignKeys.filter((fk) => fk.parent === subject.name).map((fk) => fk.child),
  );
  for (const child of children) {
    const fks = catalog.foreignKeys.filter(
      (fk) =>
        fk.child === child &&
        fk.parent === subject.name &&
        keyColumns.every((c) => fk.referencedColumns.includes(c)),
    );
    for (const from of fks) {
      for (const to of fks) {
        if (from === to) continue;
        const col = (fk: InitForeignKey, c: string) =>
          `x.${quoteIdent(fk.columns[fk.referencedColumns.indexOf(c)]!)}`;
        const reason = `${child}_${to.columns.join('_')}`;
        edges.push({
          reason,
          sql:
            `select ${keyColumns.map((c) => `${col(to, c)}::text`).join(', ')}, ${quoteLiteral(reason)} as reason ` +
            `from ${quoteTable(qualified(child))} x, params seed where ` +
            keyColumns.map((c) => `${col(from, c)}::text = seed.${quoteIdent(keyName(c))}`).join(' and '),
        });
      }
    }
  }
  return edges;
}
