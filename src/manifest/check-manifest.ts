import type { Probe } from '../generated/manifest.js';
import { sameTableName, tableNameProblem } from '../postgres/identifiers.js';
import { checkBrowserProbe } from './check-browser-probe.js';
import { type ParsedManifest, probeRequiredField } from './parsed-manifest.js';

/**
 * Cross-field checks the schema cannot express. Returns errors (the manifest is unusable) and
 * warnings (it works, but probably not as intended), each as `/json/pointer: message`.
 */
export function checkManifest(manifest: ParsedManifest): { errors: string[]; warnings: string[] } {
  const errors: string[] = [];
  const warnings: string[] = [];
  const raw = manifest.raw;
  const tableNames = raw.postgres.tables.map((table) => table.name);
  const declared = new Set(tableNames);

  tableNames.forEach((name, index) => {
    const problem = tableNameProblem(name);
    if (problem) errors.push(`/postgres/tables/${index}/name: ${problem}`);
    const first = tableNames.findIndex((other) => sameTableName(other, name));
    if (first !== index) {
      const twice = tableNames[first] === name ? '' : ` (as "${tableNames[first]}")`;
      errors.push(`/postgres/tables/${index}/name: table "${name}" is declared twice${twice}`);
    }
  });
  (raw.postgres.tableOrder ?? []).forEach((name, index) => {
    if (!declared.has(name)) errors.push(`/postgres/tableOrder/${index}: "${name}" is not a declared table`);
  });
  if (raw.postgres.tableOrder) {
    const missing = tableNames.filter((name) => !raw.postgres.tableOrder!.includes(name));
    if (missing.length > 0) {
      warnings.push(
        `/postgres/tableOrder: does not list ${missing.join(', ')}; loaded last, in declaration order`,
      );
    }
  }
  if (raw.postgres.subjectTable !== undefined && !declared.has(raw.postgres.subjectTable))
    errors.push(`/postgres/subjectTable: "${raw.postgres.subjectTable}" is not a declared table`);
  raw.postgres.tables.forEach((table, index) => {
    if (!table.deletePredicate) {
      warnings.push(
        `/postgres/tables/${index}: table "${table.name}" has no deletePredicate; reloads replace its rows by primary key only`,
      );
    }
  });
  for (const key of Object.keys(raw.localSubject ?? {})) {
    if (!manifest.subjectKeys.includes(key))
      errors.push(`/localSubject/${key}: "${key}" is not one of subjectKeys`);
  }
  (raw.redactionRules ?? []).forEach((rule, index) => {
    if (rule.table && !declared.has(rule.table)) {
      warnings.push(
        `/redactionRules/${index}/table: "${rule.table}" is not a declared table; the rule never applies`,
      );
    }
    if (!rule.fields || rule.fields.length === 0) {
      warnings.push(`/redactionRules/${index}/fields: no fields; the rule never applies`);
    }
    if (rule.prefix !== undefined && (rule.action ?? 'empty') !== 'hash') {
      warnings.push(`/redactionRules/${index}/prefix: prefix only applies to the hash action`);
    }
  });
  duplicates((raw.commands ?? []).map((command) => command.name)).forEach((name) =>
    errors.push(`/commands: command name "${name}" is used twice; trace events are keyed by name`),
  );
  errors.push(...checkProbes(raw.probes ?? []));
  (raw.commands ?? []).forEach((command, index) => {
    if (command.waitFor && !command.background) {
      warnings.push(`/commands/${index}/waitFor: only background commands wait for readiness`);
    }
    if (command.waitFor && command.waitFor.url === undefined && command.waitFor.port === undefined) {
      errors.push(`/commands/${index}/waitFor: needs "url" or "port"`);
    }
  });
  return { errors, warnings };
}

function duplicates(names: string[]): string[] {
  return [...new Set(names.filter((name, index) => names.indexOf(name) !== index))];
}

/**
 * Checks of a probe list the schema cannot express (names used twice, the field each kind needs, browser
 * probes). Also run on the probes a scenario adds (src/scenario/prepare.ts): they skip the manifest load.
 */
export function checkProbes(probes: readonly Probe[]): string[] {
  const errors = duplicates(probes.map((probe) => probe.name)).map(
    (name) => `/probes: probe name "${name}" is used twice; trace events are keyed by name`,
  );
  probes.forEach((probe, index) => {
    const field = probeRequiredField[probe.kind];
    if (!probe[field]) errors.push(`/probes/${index}: a ${probe.kind} probe needs "${field}"`);
    if (probe.kind === 'browser') errors.push(...checkBrowserProbe(probe, `/probes/${index}`));
  });
  return errors;
}
