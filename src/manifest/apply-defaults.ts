import { isAbsolute, resolve } from 'node:path';

import type { AppManifest, Probe } from '../generated/manifest.js';
import { parseTableName, quoteTable } from '../postgres/identifiers.js';
import {
  defaultProbeTimeoutSeconds,
  defaultProdDatabaseUrlEnv,
  defaultReplayDatabaseUrlEnv,
  defaultViewport,
  type ParsedManifest,
  type ParsedProbe,
  type ParsedTable,
} from './parsed-manifest.js';

/**
 * The one place defaults are applied (SPEC §3). Input has passed schema validation; semantic checks
 * (table order, local subject) run afterwards on the result, in `check-manifest.ts`.
 */
export function applyDefaults(raw: AppManifest, path: string, cwd: string): ParsedManifest {
  const repoPath = resolve(cwd, raw.repoPath ?? '.');
  const declared: ParsedTable[] = raw.postgres.tables.map((table) => {
    const alias = table.alias ?? 't';
    return {
      ...table,
      alias,
      // The name is quoted (postgres/identifiers.ts): `user`, `order`, `"Items"` are tables, not SQL.
      from: table.from ?? `${quotedOrAsWritten(table.name)} ${alias}`,
      // `alias.*`: a column named like the alias (`t`) would otherwise be read instead of the row.
      rowSql: table.rowSql ?? `to_jsonb(${alias}.*)`,
    };
  });
  const order = raw.postgres.tableOrder ?? [];
  const byName = new Map(declared.map((table) => [table.name, table]));
  const ordered = [
    ...order.flatMap((name) => byName.get(name) ?? []),
    ...declared.filter((table) => !order.includes(table.name)),
  ];
  return {
    path,
    appId: raw.appId,
    adapter: raw.adapter,
    repoPath,
    subjectKeys: [...raw.subjectKeys],
    localSubject: raw.localSubject,
    localDatabaseUrl: raw.localDatabaseUrl,
    loop: raw.loop ? resolve(cwd, raw.loop) : undefined,
    browserExecutable: raw.browser?.executablePath
      ? resolve(repoPath, raw.browser.executablePath)
      : undefined,
    postgres: {
      prodDatabaseUrlEnv: raw.postgres.prodDatabaseUrlEnv ?? defaultProdDatabaseUrlEnv,
      replayDatabaseUrlEnv: raw.postgres.replayDatabaseUrlEnv ?? defaultReplayDatabaseUrlEnv,
      graphEdges: raw.postgres.graphEdges ?? [],
      tables: ordered,
      tableOrder: ordered.map((table) => table.name),
      closure: raw.postgres.closure ?? 'none',
      subjectTable: raw.postgres.subjectTable,
    },
    commands: (raw.commands ?? []).map((command) => ({
      ...command,
      background: command.background ?? false,
      allowFailure: command.allowFailure ?? false,
      cwd: command.cwd ? (isAbsolute(command.cwd) ? command.cwd : resolve(repoPath, command.cwd)) : repoPath,
    })),
    probes: (raw.probes ?? []).map(defaultProbe),
    redactionRules: (raw.redactionRules ?? []).map((rule) => ({
      ...rule,
      // The original tool defaulted both: a rule without fields does nothing, without action empties.
      fields: rule.fields ?? [],
      action: rule.action ?? 'empty',
      prefix: rule.prefix ?? 'replay-',
      recursive: rule.recursive ?? true,
    })),
    session: raw.session,
    capsule: {
      encryptTo: [...(raw.capsule?.encryptTo ?? [])],
      requireEncryption: raw.capsule?.requireEncryption ?? false,
      retentionDays: raw.capsule?.retentionDays,
    },
    warnings: [],
    raw,
  };
}

/** A name check-manifest will refuse (one clear error) must not crash defaulting first. */
function quotedOrAsWritten(name: string): string {
  return typeof parseTableName(name) === 'string' ? name : quoteTable(name);
}

/** A probe with its defaults (also used for the probes a scenario adds, src/scenario/). */
export function defaultProbe(probe: Probe): ParsedProbe {
  return {
    ...probe,
    allowFailure: probe.allowFailure ?? false,
    expectStatus: probe.expectStatus ?? 200,
    method: (probe.method ?? 'GET').toUpperCase(),
    timeoutSeconds: probe.timeoutSeconds ?? defaultProbeTimeoutSeconds,
    allowConsoleErrors: probe.allowConsoleErrors ?? false,
    ignoreConsole: probe.ignoreConsole ?? [],
    screenshot: probe.screenshot ?? true,
    viewport: probe.viewport ?? defaultViewport,
  };
}
