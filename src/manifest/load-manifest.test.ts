import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { ManifestError } from '../errors.js';
import { loadManifest, parseManifest } from './load-manifest.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('loadManifest', () => {
  it('loads the original tool fixture manifest unchanged and applies every default', async () => {
    const manifest = await loadManifest('test/fixtures/original-tool/manifest.json', { cwd: root });
    expect(manifest.appId).toBe('shop');
    expect(manifest.subjectKeys).toEqual(['shop_id', 'customer_id']);
    expect(manifest.postgres.prodDatabaseUrlEnv).toBe('SHOP_PROD_DATABASE_URL');
    expect(manifest.postgres.tableOrder).toEqual(['customers', 'orders', 'order_notes']);
    expect(manifest.postgres.tables.map((table) => [table.name, table.alias, table.rowSql])).toEqual([
      ['customers', 'c', 'to_jsonb(c.*)'],
      ['orders', 'o', 'to_jsonb(o.*)'],
      ['order_notes', 'n', 'to_jsonb(n.*)'],
    ]);
    expect(manifest.redactionRules).toEqual([
      { fields: ['api_key'], action: 'empty', prefix: 'replay-', recursive: true },
      { table: 'customers', fields: ['email'], action: 'hash', prefix: 'mail-', recursive: true },
    ]);
    expect(manifest.repoPath).toBe(resolve(root));
    expect(manifest.warnings).toEqual([]);
  });

  it('defaults env var names, alias, from and rowSql as SPEC §3 says', () => {
    const manifest = parseManifest(
      JSON.stringify({
        appId: 'a',
        adapter: 'postgres-subject-graph.v1',
        subjectKeys: ['k'],
        postgres: { tables: [{ name: 'items' }] },
      }),
      { file: 'm.json', path: '/x/m.json', cwd: '/x' },
    );
    expect(manifest.postgres.prodDatabaseUrlEnv).toBe('APP_PROD_DATABASE_URL');
    expect(manifest.postgres.replayDatabaseUrlEnv).toBe('APP_REPLAY_DATABASE_URL');
    expect(manifest.postgres.tables[0]).toMatchObject({
      name: 'items',
      alias: 't',
      from: '"items" t',
      rowSql: 'to_jsonb(t.*)',
    });
    expect(manifest.warnings).toEqual([
      '/postgres/tables/0: table "items" has no deletePredicate; reloads replace its rows by primary key only',
    ]);
  });

  it('reads the YAML and JSON example manifests to the same result', async () => {
    const yaml = await loadManifest('config/apps/teamdesk.yaml', { cwd: root });
    const json = await loadManifest('config/apps/teamdesk.json', { cwd: root });
    expect({ ...yaml, path: '' }).toEqual({ ...json, path: '' });
    expect(yaml.postgres.tableOrder).toEqual([
      'tenants',
      'users',
      'tickets',
      'comments',
      'reactions',
      'audit_events',
    ]);
    expect(yaml.postgres.graphEdges).toHaveLength(4);
  });

  it('accepts what the original tool accepted: a rule without action (empty) or fields, unknown keys', () => {
    const manifest = parseManifest(
      JSON.stringify({
        appId: 'a',
        adapter: 'postgres-subject-graph.v1',
        subjectKeys: ['k'],
        someFutureField: { x: 1 },
        postgres: { tables: [{ name: 'items', deletePredicate: 'true', comment: 'unknown key' }] },
        redactionRules: [{ fields: ['secret'] }, { action: 'null' }],
      }),
      { file: 'm.json', path: '/x/m.json', cwd: '/x' },
    );
    expect(manifest.redactionRules).toEqual([
      { fields: ['secret'], action: 'empty', prefix: 'replay-', recursive: true },
      { fields: [], action: 'null', prefix: 'replay-', recursive: true },
    ]);
    expect(manifest.warnings).toEqual(['/redactionRules/1/fields: no fields; the rule never applies']);
  });

  it('loads tables missing from tableOrder last, with a warning', () => {
    const manifest = parseManifest(
      JSON.stringify({
        appId: 'a',
        adapter: 'postgres-subject-graph.v1',
        subjectKeys: ['k'],
        postgres: {
          tables: [
            { name: 'a', deletePredicate: 'true' },
            { name: 'b', deletePredicate: 'true' },
          ],
          tableOrder: ['b'],
        },
      }),
      { file: 'm.json', path: '/x/m.json', cwd: '/x' },
    );
    expect(manifest.postgres.tableOrder).toEqual(['b', 'a']);
    expect(manifest.warnings[0]).toMatch(/does not list a/);
  });

  const broken: Array<[string, RegExp]> = [
    ['not-json.json', /not-json\.json: \/: not valid JSON/],
    ['bad-yaml.yaml', /bad-yaml\.yaml: \/: not valid YAML \(line \d+, column \d+\)/],
    ['missing-fields.json', /missing-fields\.json: \/: missing required property "adapter"/],
    ['wrong-adapter.json', /\/adapter: must be "postgres-subject-graph\.v1"/],
    [
      'hostile-subject-key.json',
      /\/subjectKeys\/0: "shop_id; drop table x" is invalid: A plain SQL identifier/,
    ],
    ['hostile-table-name.yaml', /\/postgres\/tables\/0\/name: .* is invalid: A table name/],
    ['unknown-table-order.json', /\/postgres\/tableOrder\/0: "customers" is not a declared table/],
    [
      'bad-redaction-action.json',
      /\/redactionRules\/0\/action: must be one of "empty", "null", "empty_object", "empty_array", "hash"/,
    ],
    ['empty-subject-keys.json', /\/subjectKeys: must NOT have fewer than 1 items/],
    ['local-subject-unknown-key.json', /\/localSubject\/user_id: "user_id" is not one of subjectKeys/],
    ['probe-without-url.json', /\/probes\/0: a http probe needs "url"/],
    ['not-an-object.yaml', /not-an-object\.yaml: \/: must be object/],
    ['duplicate-table.json', /\/postgres\/tables\/1\/name: table "orders" is declared twice/],
    ['reference-without-subject-table.json', /\/postgres: missing required property "subjectTable"/],
  ];

  it.each(broken)('rejects %s with a pointed one-line message', async (file, expected) => {
    const error = await loadManifest(`test/fixtures/manifests/broken/${file}`, { cwd: root }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ManifestError);
    const manifestError = error as ManifestError;
    expect(manifestError.message).not.toContain('\n');
    expect(manifestError.problems.join('\n')).toMatch(expected);
    expect(
      manifestError.problems.every((line) => line.startsWith(`test/fixtures/manifests/broken/${file}: /`)),
    ).toBe(true);
  });

  it('reports every schema problem at once', async () => {
    const error = (await loadManifest('test/fixtures/manifests/broken/missing-fields.json', {
      cwd: root,
    }).catch((e: unknown) => e)) as ManifestError;
    expect(error.problems.map((line) => line.replace(/^.*?: /, ''))).toEqual([
      '/: missing required property "adapter"',
      '/: missing required property "subjectKeys"',
      '/: missing required property "postgres"',
    ]);
  });

  it('says when the file does not exist', async () => {
    await expect(loadManifest('nope.yaml', { cwd: root })).rejects.toThrow('nope.yaml: file not found');
  });

  it('keeps the example JSON manifest in sync with the YAML one', () => {
    const json = JSON.parse(readFileSync(`${root}/config/apps/teamdesk.json`, 'utf8')) as unknown;
    expect(json).toMatchObject({ appId: 'teamdesk' });
  });
});

describe('table names (postgres/identifiers.ts)', () => {
  const load = (names: string[]) =>
    parseManifest(
      JSON.stringify({
        appId: 'x',
        adapter: 'postgres-subject-graph.v1',
        subjectKeys: ['k'],
        postgres: { tables: names.map((name) => ({ name, deletePredicate: 'true' })) },
      }),
      { file: 'x.json', path: '/x.json', cwd: '/' },
    );
  const problems = (names: string[]) => {
    try {
      load(names);
      return [];
    } catch (error) {
      if (!(error instanceof ManifestError)) throw error;
      return error.problems.map((line) => line.replace(/^x\.json: /, ''));
    }
  };

  it('accepts keywords, quoted and schema-qualified names', () => {
    expect(problems(['user', 'order', '"Items"', '"Sales Ops"."Deal Notes"', 'public.tickets'])).toEqual([]);
  });

  it('refuses a name that could end its SQL comment label, or one spelled twice', () => {
    expect(problems(['"a*/ select 1; /*"'])).toEqual(['/postgres/tables/0/name: a part contains /* or */']);
    expect(problems(['items', 'Items'])).toEqual([
      '/postgres/tables/1/name: table "Items" is declared twice (as "items")',
    ]);
    expect(problems(['"Items"', 'items'])).toEqual([]); // two tables: "Items" and items
    expect(problems(['x;y'])[0]).toMatch(
      /^\/postgres\/tables\/0\/name: "x;y" is invalid: A table name as SQL writes it/,
    );
  });
});
