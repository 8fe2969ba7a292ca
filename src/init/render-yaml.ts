import { stringify } from 'yaml';

import type { InitDraft } from './draft.js';

/** The manifest object `init` writes (what `--json` prints as `manifest`). */
export function draftToManifest(draft: InitDraft): Record<string, unknown> {
  return {
    appId: draft.appId,
    adapter: 'postgres-subject-graph.v1',
    subjectKeys: draft.subjectKeys,
    postgres: {
      closure: draft.closure,
      subjectTable: draft.subjectTable,
      ...(draft.graphEdges.length > 0 ? { graphEdges: draft.graphEdges.map((edge) => edge.sql) } : {}),
      tables: draft.tables.map((table) => ({
        name: table.name,
        where: table.where,
        deletePredicate: table.deletePredicate,
      })),
      tableOrder: draft.tableOrder,
    },
    ...(draft.redactionRules.length > 0
      ? {
          redactionRules: draft.redactionRules.map((rule) => ({
            table: rule.table,
            fields: rule.fields,
            action: rule.action,
          })),
        }
      : {}),
  };
}

// Catalog names reach comments: a newline or other control character in one would end the comment and
// put the rest of the name into the YAML, so they are written escaped (`\n`, `\u0000`).
const escapeControls = (line: string) =>
  // eslint-disable-next-line no-control-regex
  line.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, (char) => JSON.stringify(char).slice(1, -1));
const comment = (lines: string[], indent = '') =>
  lines.map((line) => `${indent}# ${escapeControls(line)}`).join('\n');
const block = (value: unknown, indent: string) =>
  stringify(value, { lineWidth: 0 })
    .trimEnd()
    .split('\n')
    .map((line) => `${indent}${line}`)
    .join('\n');

/** The commented YAML manifest: the same object as draftToManifest, with the reasoning as comments. */
export function renderManifestYaml(draft: InitDraft, counts?: Record<string, number | null>): string {
  const manifest = draftToManifest(draft);
  const postgres = manifest.postgres as Record<string, unknown>;
  const out: string[] = [
    comment([
      `Drafted by \`replay-env init\` from the catalog of database "${draft.appId}".`,
      `Subject table: ${draft.subjectTable}. Review the comments, then run \`replay-env doctor --app <this file>\`.`,
    ]),
    block({ appId: manifest.appId, adapter: manifest.adapter, subjectKeys: manifest.subjectKeys }, ''),
    'postgres:',
    comment(
      [
        'closure: parents — export adds every row of these tables that exported rows reference (foreign keys,',
        'transitively, same snapshot); parents never pull in their other children.',
        ...(draft.closure === 'parents-and-reference'
          ? [
              'parents-and-reference — reference tables (no foreign-key path to the subject table) also get the rows',
              'that reference an included row of the tables above them, then their parents (a film’s actors).',
            ]
          : []),
      ],
      '  ',
    ),
    block({ closure: postgres.closure, subjectTable: postgres.subjectTable }, '  '),
  ];
  if (draft.graphEdges.length > 0) {
    out.push(
      comment(['graph edges: tables that reference the subject table twice link two subjects'], '  '),
      '  graphEdges:',
    );
    for (const edge of draft.graphEdges)
      out.push(comment([`reason: ${edge.reason}`], '    '), block([edge.sql], '    '));
  }
  out.push('  tables:');
  for (const table of draft.tables) {
    const count = counts?.[table.name];
    const notes = [...table.notes];
    if (counts && table.role !== 'parent' && table.role !== 'reference')
      notes.push(`sample subject: ${count ?? '?'} row(s)`);
    out.push(
      comment(notes, '    '),
      block([{ name: table.name, where: table.where, deletePredicate: table.deletePredicate }], '    '),
    );
  }
  out.push(
    comment(['load order, parents first; deletes run in reverse', ...draft.orderNotes], '  '),
    block({ tableOrder: draft.tableOrder }, '  '),
  );
  if (draft.redactionRules.length > 0) {
    out.push('redactionRules:');
    for (const rule of draft.redactionRules) {
      out.push(
        comment(
          [
            rule.review
              ? 'personal data by column name: REVIEW (hash keeps equal values equal)'
              : 'secret by column name',
          ],
          '  ',
        ),
        block([{ table: rule.table, fields: rule.fields, action: rule.action }], '  '),
      );
    }
  }
  if (draft.unreachable.length > 0)
    out.push(
      comment(['Not exported:', ...draft.unreachable.map((entry) => `  ${entry.table}: ${entry.why}`)]),
    );
  if (draft.warnings.length > 0) out.push(comment(['Warnings:', ...draft.warnings.map((w) => `  ${w}`)]));
  return `${out.join('\n')}\n`;
}
