import type { InitForeignKey, InitTable } from './schema-catalog.js';

const secret = /(password|passwd|token|secret|api_?key|_hash$|^hash$)/i;
const personal =
  /(email|phone|mobile|first_?name|last_?name|full_?name|address|street|birth|(^|_)ip(_|$)|ssn)/i;
/** A bare `name` is personal only in tables of people (the subject table, staff-like tables). */
const people = /(customer|user|person|people|staff|employee|member|account|contact|client|patient)/i;
const texty = /^(text|character varying|character|citext|varchar)/;

/**
 * Redaction rules suggested by column name and type: secrets emptied (active), personal data hashed (also
 * active, marked for review). Only text columns (an emptied or hashed date or number would not load) and
 * never key columns (a hashed key would break the references the capsule keeps).
 */
export function suggestRedactions(
  tables: readonly InitTable[],
  fks: readonly InitForeignKey[],
  subjectTable: string,
): Array<{ table: string; fields: string[]; action: 'empty' | 'hash'; review: boolean }> {
  const rules: Array<{ table: string; fields: string[]; action: 'empty' | 'hash'; review: boolean }> = [];
  for (const table of tables) {
    const keys = new Set([
      ...table.primaryKey,
      ...fks.filter((fk) => fk.child === table.name).flatMap((fk) => fk.columns),
      ...fks.filter((fk) => fk.parent === table.name).flatMap((fk) => fk.referencedColumns),
    ]);
    const candidates = table.columns.filter((column) => texty.test(column.type) && !keys.has(column.name));
    const secrets = candidates.filter((column) => secret.test(column.name)).map((column) => column.name);
    const personalData = candidates
      .filter(
        (column) =>
          !secret.test(column.name) &&
          (personal.test(column.name) ||
            (column.name === 'name' && (table.name === subjectTable || people.test(table.name)))),
      )
      .map((column) => column.name);
    if (secrets.length > 0)
      rules.push({ table: table.name, fields: secrets, action: 'empty', review: false });
    if (personalData.length > 0)
      rules.push({ table: table.name, fields: personalData, action: 'hash', review: true });
  }
  return rules;
}
