import { isName, type Token, tokenize } from './sql-tokens.js';

/** `qualifier.column` as written in a snippet (both folded as Postgres folds them). */
export interface ColumnReference {
  qualifier: string;
  column: string;
}

/** A relation named in a FROM list: `orders o`, `public.orders as o`, `params seed`, `orders`. */
export interface RelationAlias {
  /** The relation name as written (quotes kept), ready for `to_regclass`. */
  relation: string;
  /** The folded relation name without schema, e.g. `orders`, `graph_keys`. */
  baseName: string;
  alias: string;
}

/**
 * Every `x.y` reference in a snippet that is not a function call (`pg_catalog.now()`), a star (`t.*`)
 * or part of a three-part name (`schema.table.column`). Whether `x` is an alias doctor knows is the
 * caller's business.
 */
export function columnReferences(sql: string): ColumnReference[] {
  const tokens = tokenize(sql);
  const references: ColumnReference[] = [];
  for (let i = 0; i + 2 < tokens.length; i += 1) {
    const [qualifier, dot, column] = [tokens[i], tokens[i + 1], tokens[i + 2]];
    if (!isName(qualifier) || dot?.value !== '.' || !isName(column)) continue;
    if (tokens[i - 1]?.value === '.' || tokens[i + 3]?.value === '.' || tokens[i + 3]?.value === '(')
      continue;
    references.push({ qualifier: qualifier.value, column: column.value });
    i += 2;
  }
  return references;
}

/** Words that end a FROM item or cannot be an alias. */
const notAlias = new Set([
  'on',
  'using',
  'where',
  'join',
  'inner',
  'left',
  'right',
  'full',
  'outer',
  'cross',
  'natural',
  'lateral',
  'group',
  'order',
  'having',
  'limit',
  'offset',
  'window',
  'union',
  'except',
  'intersect',
  'returning',
  'for',
  'and',
  'or',
  'not',
  'as',
  'select',
  'from',
  'fetch',
  'tablesample',
  'set',
  'values',
  'with',
  'only',
]);
/** Words that end a FROM list at their depth. */
const endsFromList = new Set([
  'where',
  'group',
  'order',
  'having',
  'limit',
  'offset',
  'window',
  'union',
  'except',
  'intersect',
  'returning',
  'for',
  'fetch',
  'select',
]);

/**
 * The `<relation> [as] <alias>` pairs of every FROM list in a snippet, subqueries included. With
 * `startInFrom`, the snippet itself is a FROM list (a table's `from`). Items that are subqueries or
 * functions (`(select …) x`, `unnest(…) u`) are skipped: their columns are not a table's.
 */
export function relationAliases(sql: string, options: { startInFrom?: boolean } = {}): RelationAlias[] {
  const tokens = tokenize(sql);
  const found: RelationAlias[] = [];
  // state per parenthesis depth: undefined = not in a FROM list.
  const state: Array<'item' | 'after' | undefined> = [options.startInFrom ? 'item' : undefined];
  let depth = 0;
  for (let i = 0; i < tokens.length; i += 1) {
    const token = tokens[i]!;
    if (token.value === '(' && token.kind === 'punct') {
      if (state[depth] === 'item') state[depth] = 'after'; // a subquery or parenthesised join: skipped
      depth += 1;
      state[depth] = undefined;
      continue;
    }
    if (token.value === ')' && token.kind === 'punct') {
      state[depth] = undefined;
      depth = Math.max(0, depth - 1);
      continue;
    }
    const word = token.kind === 'ident' ? token.value : undefined;
    if (word === 'from' && tokens[i - 1]?.value !== 'distinct') {
      state[depth] = 'item';
      continue;
    }
    if (state[depth] === undefined) continue;
    if (word && endsFromList.has(word)) {
      state[depth] = undefined;
      continue;
    }
    if (word === 'join' || (token.value === ',' && token.kind === 'punct')) {
      state[depth] = 'item';
      continue;
    }
    if (state[depth] !== 'item') continue;
    if (word === 'lateral' || word === 'only') continue;
    const item = readRelation(tokens, i);
    state[depth] = 'after';
    if (!item) continue;
    i = item.end;
    found.push(item.relation);
  }
  return found;
}

function readRelation(tokens: Token[], start: number): { relation: RelationAlias; end: number } | undefined {
  const first = tokens[start];
  if (!isName(first) || (first.kind === 'ident' && notAlias.has(first.value))) return undefined;
  const parts = [first];
  let i = start + 1;
  if (tokens[i]?.value === '.' && isName(tokens[i + 1])) {
    parts.push(tokens[i + 1]!);
    i += 2;
  }
  if (tokens[i]?.value === '(' || tokens[i]?.value === '.') return undefined; // a function, or a.b.c
  const relation = parts.map((part) => part.text).join('.');
  const baseName = parts[parts.length - 1]!.value;
  let aliasToken = tokens[i];
  if (aliasToken?.kind === 'ident' && aliasToken.value === 'as') aliasToken = tokens[++i];
  if (isName(aliasToken) && !(aliasToken.kind === 'ident' && notAlias.has(aliasToken.value))) {
    return { relation: { relation, baseName, alias: aliasToken.value }, end: i };
  }
  return { relation: { relation, baseName, alias: baseName }, end: i - 1 };
}
