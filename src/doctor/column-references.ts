import type { TableInfo } from '../postgres/catalog.js';
import { type DoctorCheck, fail, pass } from './check.js';
import type { SnippetScope } from './snippet-scopes.js';
import { columnReferences } from './sql-references.js';

/**
 * Checks every `alias.column` reference in manifest SQL against the catalog (`tables`, keyed by the
 * relation name as written) and the subject keys, with a specific message per unknown column.
 * References through aliases doctor cannot resolve (CTEs, subquery aliases, tables that do not exist —
 * reported elsewhere) are not judged here; EXPLAIN still checks them.
 */
export function checkColumnReferences(
  scopes: readonly SnippetScope[],
  tables: ReadonlyMap<string, TableInfo>,
): { checks: DoctorCheck[]; failedLabels: Set<string> } {
  const checks: DoctorCheck[] = [];
  const failedLabels = new Set<string>();
  const lower = new Map([...tables].map(([name, info]) => [name.toLowerCase(), info]));
  let resolved = 0;
  for (const scope of scopes) {
    for (const reference of columnReferences(scope.sql)) {
      const binding = scope.aliases.get(reference.qualifier);
      if (!binding || binding.kind === 'ambiguous') continue;
      const written = `${reference.qualifier}.${reference.column}`;
      if (binding.kind === 'virtual') {
        resolved += 1;
        if (binding.columns.includes(reference.column)) continue;
        failedLabels.add(scope.label);
        checks.push(
          fail(
            `columns.${scope.label}`,
            scope.label,
            `column ${written} is not a ${binding.relation} column (${binding.relation} has ${binding.columns.join(', ')})${suggest(reference.column, binding.columns)}`,
          ),
        );
        continue;
      }
      const info = lower.get(binding.relation.toLowerCase());
      if (!info) continue;
      resolved += 1;
      const columns = info.columns.map((column) => column.name);
      if (columns.includes(reference.column)) continue;
      failedLabels.add(scope.label);
      checks.push(
        fail(
          `columns.${scope.label}`,
          scope.label,
          `column ${written} does not exist in ${info.name}${suggest(reference.column, columns)}`,
        ),
      );
    }
  }
  if (checks.length === 0) {
    checks.push(
      pass(
        'columns',
        'column references',
        `${resolved} alias.column reference(s) in ${scopes.length} snippet(s) exist`,
      ),
    );
  }
  return { checks, failedLabels };
}

/** ` (did you mean x?)` for the closest name within a small edit distance, else ''. */
export function suggest(name: string, candidates: readonly string[]): string {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(name, candidate);
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return best !== undefined && bestDistance <= Math.max(1, Math.floor(name.length / 3))
    ? ` (did you mean ${best}?)`
    : '';
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      current[j] = Math.min(
        previous[j]! + 1,
        current[j - 1]! + 1,
        previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length]!;
}
