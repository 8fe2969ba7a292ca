import type { InitResult } from '../../services/init.js';

/** Text output of `init`: the YAML itself without --out; with --out, where it went and what it found. */
export function renderInit(result: InitResult): string {
  if (result.out === undefined) return result.yaml.trimEnd();
  const { reasoning } = result;
  const byRole = (role: string) => reasoning.tables.filter((table) => table.role === role).map((t) => t.name);
  const lines = [
    `wrote ${result.out}`,
    `subject: ${reasoning.subjectTable} (subject keys: ${reasoning.subjectKeys.join(', ')})`,
    `owned by a foreign-key path: ${byRole('owned').join(', ') || '(none)'}`,
    `matched by column name: ${byRole('name-matched').join(', ') || '(none)'}`,
    `parents (closure): ${byRole('parent').join(', ') || '(none)'}`,
    ...(reasoning.closure === 'parents-and-reference'
      ? [`reference (closure): ${byRole('reference').join(', ') || '(none)'}`]
      : []),
    `graph edges: ${reasoning.graphEdges.map((edge) => edge.reason).join(', ') || '(none)'}`,
    `not exported: ${reasoning.unreachable.map((entry) => entry.table).join(', ') || '(none)'}`,
    ...reasoning.orderNotes.map((note) => `order: ${note}`),
    ...reasoning.warnings.map((warning) => `warning: ${warning}`),
    `next: replay-env doctor --app ${result.out}`,
  ];
  return lines.join('\n');
}
