import { describe, expect } from 'vitest';

import { dbTest } from '../../setup/database.js';
import { doctor, lines, loadSql, shopManifest, shopManifestWith, shopSchema } from './helpers.js';

describe('doctor on correct manifests', () => {
  dbTest('teamdesk against its own schema: 0 failures, every table and snippet checked', async ({ db }) => {
    await loadSql(db, 'config/apps/teamdesk/schema.sql');
    const result = await doctor('config/apps/teamdesk.yaml', db);
    expect(lines(result, 'fail')).toEqual([]);
    expect(lines(result, 'warn')).toEqual([]);
    expect(result.ok).toBe(true);
    const ids = result.checks.map((check) => check.id);
    for (const table of ['tenants', 'users', 'tickets', 'comments', 'reactions', 'audit_events']) {
      expect(ids).toContain(`db.table.${table}`);
    }
    expect(lines(result, 'pass')).toContain(
      'tables[tenants].deletePredicate: none; reloads replace rows by primary key (tenant_id)',
    );
    // 4 graph edges + 6 table SELECTs + 5 deletePredicates were planned.
    expect(lines(result, 'pass')).toContain(
      'manifest SQL: 15 statement(s) plan (EXPLAIN with stub graph keys)',
    );
    expect(lines(result, 'pass')).toContain(
      'table order: parents load before children (8 foreign key(s) between exported tables)',
    );
  });

  dbTest('the original tool fixture against its schema: 0 failures', async ({ db }) => {
    await loadSql(db, shopSchema);
    const result = await doctor(shopManifest, db);
    expect(lines(result, 'fail')).toEqual([]);
    // The fixture has no commands or probes: that is worth a warning, not a failure.
    expect(lines(result, 'warn')).toEqual([
      'commands and probes: none: run would materialize and judge nothing; add commands (tests) or probes',
    ]);
    expect(result.summary).toMatchObject({ failed: 0, warnings: 1 });
    expect(result.ok).toBe(true);
    expect((await doctor(shopManifest, db, { strict: true })).ok).toBe(false);
  });

  dbTest('doctor writes nothing: the replay database is unchanged', async ({ db }) => {
    await loadSql(db, shopSchema);
    await db.query(`insert into customers (shop_id, customer_id, name) values ('s1', 'c1', 'Ada')`);
    await doctor(shopManifest, db);
    expect(await db.query('select shop_id, customer_id from customers')).toEqual([
      { shop_id: 's1', customer_id: 'c1' },
    ]);
  });
});

type Edit = Parameters<typeof shopManifestWith>[0];
const table = (name: string) => (m: Parameters<Edit>[0]) => m.postgres.tables.find((t) => t.name === name)!;

/** [what is wrong, manifest edit, schema change, expected fail line]. */
const failures: Array<[string, Edit, string, string | RegExp]> = [
  [
    'a misspelt column in a deletePredicate',
    (m) => (table('orders')(m).deletePredicate = 't.shop_idd = g.shop_id and t.customer_id = g.customer_id'),
    '',
    'tables[orders].deletePredicate: column t.shop_idd does not exist in orders (did you mean shop_id?)',
  ],
  [
    'a graph_keys column that is not a subject key',
    (m) => (table('customers')(m).deletePredicate = 't.shop_id = g.shop and t.customer_id = g.customer_id'),
    '',
    'tables[customers].deletePredicate: column g.shop is not a graph_keys column (graph_keys has shop_id, customer_id)',
  ],
  [
    'a misspelt column in a where, through the table alias',
    (m) => (table('orders')(m).where = 'o.placed_att >= (select since_at from params)'),
    '',
    'tables[orders].where: column o.placed_att does not exist in orders (did you mean placed_at?)',
  ],
  [
    'a misspelt column through an alias the from clause joins',
    (m) =>
      (table('order_notes')(m).from =
        'order_notes n join orders o on o.idd = n.order_id join graph_keys g on g.shop_id = o.shop_id and g.customer_id = o.customer_id'),
    '',
    'tables[order_notes].from: column o.idd does not exist in orders (did you mean id?)',
  ],
  [
    'a misspelt column in a subquery of a deletePredicate',
    (m) =>
      (table('order_notes')(m).deletePredicate =
        'exists (select 1 from orders o where o.id = t.order_id and o.shop = g.shop_id)'),
    '',
    /^tables\[order_notes\]\.deletePredicate: column o\.shop does not exist in orders/,
  ],
  [
    'a where that references an unqualified unknown column (caught by EXPLAIN)',
    (m) => (table('orders')(m).where = 'o.placed_at >= (select since_att from params)'),
    '',
    /^tables\[orders\]: does not plan: column "since_att" does not exist .*near: \[tables\[orders\]\.where\]/,
  ],
  [
    'a graph edge with a syntax error',
    (m) =>
      (m.postgres.graphEdges = [
        'select n.shop_id, n.author_customer_id as customer_id reason from order_notes n',
      ]),
    '',
    /^graphEdges\[0\]: does not plan: syntax error at or near "reason".*\[graphEdges\[0\]\]/,
  ],
  [
    'a graph edge without a reason column',
    (m) =>
      (m.postgres.graphEdges = ['select n.shop_id, n.author_customer_id as customer_id from order_notes n']),
    '',
    /^graphEdges\[0\]: does not plan: table "e" has 2 columns available but 3 columns specified/,
  ],
  [
    'a missing table',
    (m) => {
      m.postgres.tables.push({ name: 'refunds', alias: 'r', deletePredicate: 't.shop_id = g.shop_id' });
      m.postgres.tableOrder.push('refunds');
    },
    '',
    /^table refunds: does not exist in 127\.0\.0\.1:\d+\/t_\w+$/,
  ],
  [
    'a child loaded before its parent',
    (m) => (m.postgres.tableOrder = ['orders', 'customers', 'order_notes']),
    '',
    'table order: orders loads before its parent customers (foreign key orders_shop_id_customer_id_fkey: orders(shop_id, customer_id) → customers(shop_id, customer_id)); move customers before orders in postgres.tableOrder',
  ],
];

describe('doctor catches each problem with a specific message', () => {
  dbTest.for(failures)('%s', async ([, edit, schemaChange, expected], { db }) => {
    await loadSql(db, shopSchema);
    if (schemaChange) await db.query(schemaChange);
    const result = await doctor(await shopManifestWith(edit), db);
    const failed = lines(result, 'fail');
    expect(failed).toHaveLength(1);
    if (typeof expected === 'string') expect(failed[0]).toBe(expected);
    else expect(failed[0]).toMatch(expected);
    expect(result.ok).toBe(false);
  });

  dbTest('a column the schema dropped is caught in every snippet that uses it', async ({ db }) => {
    await loadSql(db, shopSchema);
    await db.query('alter table orders rename column placed_at to ordered_at');
    const result = await doctor(await shopManifestWith(() => {}), db);
    expect(lines(result, 'fail')).toEqual([
      'tables[orders].where: column o.placed_at does not exist in orders',
    ]);
  });
});

describe('doctor on the replay database URL', () => {
  dbTest.for([
    [
      'postgres://u:secret-pw@db.prod.example.com:5432/shop',
      'host "db.prod.example.com" looks like production',
    ],
    [
      'postgres://u:secret-pw@localhost:5432/shop_production',
      'database "shop_production" looks like production',
    ],
    ['postgres://u:secret-pw@x.y.eu-west-1.rds.amazonaws.com/shop', 'is a managed cloud database'],
  ])('a production-looking URL fails and is not connected to: %s', async ([url, reason]) => {
    const result = await runDoctorWithUrl(url!);
    expect(lines(result, 'fail')).toEqual([expect.stringMatching(/^target safety: .*/)]);
    expect(lines(result, 'fail')[0]).toContain(reason);
    expect(lines(result, 'fail')[0]).toContain('doctor does not connect to it');
    expect(result.checks.some((check) => check.id === 'db.connect')).toBe(false);
    expect(JSON.stringify(result)).not.toContain('secret-pw');
  });

  dbTest('an unreachable database is a fail line with the reason, not a crash', async () => {
    const result = await runDoctorWithUrl('postgres://u:secret-pw@127.0.0.1:1/replay');
    expect(lines(result, 'fail')).toEqual([
      'replay database: replay database: cannot connect (127.0.0.1:1/replay): connection refused (is Postgres running and listening there?)',
    ]);
    expect(JSON.stringify(result)).not.toContain('secret-pw');
  });

  dbTest('a wrong password is a fail line without the password', async ({ db }) => {
    const url = db.url.connectionString().replace(db.url.password!, 'wrong-password-x');
    const result = await runDoctorWithUrl(url);
    expect(lines(result, 'fail')).toEqual([expect.stringMatching(/password authentication failed/)]);
    expect(JSON.stringify(result)).not.toContain('wrong-password-x');
  });

  dbTest('the replay database may come from the env var the manifest names', async ({ db }) => {
    await loadSql(db, shopSchema);
    const { runDoctor } = await import('../../../src/services/doctor.js');
    const { repoRoot } = await import('../../setup/cli.js');
    const result = await runDoctor({
      app: shopManifest,
      cwd: repoRoot,
      env: { SHOP_REPLAY_DATABASE_URL: db.url.connectionString() },
    });
    expect(result.checks.find((check) => check.id === 'db.connect')?.status).toBe('pass');
    expect(result.summary.failed).toBe(0);
  });

  dbTest('the export source is refused as a replay target', async ({ db }) => {
    const { runDoctor } = await import('../../../src/services/doctor.js');
    const { repoRoot } = await import('../../setup/cli.js');
    const result = await runDoctor({
      app: shopManifest,
      cwd: repoRoot,
      env: {
        SHOP_REPLAY_DATABASE_URL: db.url.connectionString(),
        SHOP_PROD_DATABASE_URL: db.url.connectionString(),
      },
    });
    expect(lines(result, 'fail')).toEqual([
      expect.stringMatching(/is the export source \(\$SHOP_PROD_DATABASE_URL\)/),
    ]);
  });
});

async function runDoctorWithUrl(url: string) {
  const { runDoctor } = await import('../../../src/services/doctor.js');
  const { repoRoot } = await import('../../setup/cli.js');
  return runDoctor({ app: shopManifest, dbUrl: url, cwd: repoRoot, env: {} });
}

describe('doctor warnings', () => {
  dbTest(
    'foreign keys to and from tables the manifest does not export, and tables without a key',
    async ({ db }) => {
      await loadSql(db, shopSchema);
      await db.query(`create table shops (shop_id text primary key)`);
      await db.query(
        `alter table customers add constraint customers_shop_fkey foreign key (shop_id) references shops`,
      );
      await db.query(`create table refunds (order_id bigint references orders(id), amount numeric)`);
      await db.query(`create table order_tags (order_id bigint, tag text)`);
      const manifest = await shopManifestWith((m) => {
        m.postgres.tables.push({ name: 'order_tags', alias: 'x' });
        m.postgres.tableOrder.push('order_tags');
      });
      const result = await doctor(manifest, db);
      expect(lines(result, 'fail')).toEqual([]);
      expect(lines(result, 'warn')).toEqual([
        'commands and probes: none: run would materialize and judge nothing; add commands (tests) or probes',
        'table order_tags: has no primary key: reloads cannot replace its rows by key, only its deletePredicate clears them',
        'tables[order_tags].deletePredicate: none and no primary key: reloads cannot clear or replace old rows, they would be duplicated',
        'foreign key customers_shop_fkey: customers(shop_id) → shops(shop_id): shops is not exported; loading customers needs those rows to be in the replay database already',
        'foreign key refunds_order_id_fkey: refunds(order_id) → orders(id): refunds is not exported; clearing orders rows before a reload fails if refunds rows in the replay database point at them (unless the key cascades)',
      ]);
      expect(result.ok).toBe(true);
    },
  );

  dbTest('unknown keys, no redaction rules and loader warnings are warn lines', async ({ db }) => {
    await loadSql(db, shopSchema);
    const manifest = await shopManifestWith((m) => {
      delete m.redactionRules;
      m.comands = [{ name: 'test', run: 'npm test' }];
      m.postgres.tables[1]!.deletePredicat = 'true';
      m.postgres.tableOrder = ['customers', 'orders'];
    });
    const result = await doctor(manifest, db);
    expect(lines(result, 'fail')).toEqual([]);
    expect(lines(result, 'warn')).toEqual([
      'redaction rules: none: a "safe" export copies every value as it is in production; add redactionRules for emails, tokens, secrets',
      'commands and probes: none: run would materialize and judge nothing; add commands (tests) or probes',
      'manifest: /postgres/tableOrder: does not list order_notes; loaded last, in declaration order',
      'unknown key: /postgres/tables/1/deletePredicat is not a manifest field and is ignored',
      'unknown key: /comands is not a manifest field and is ignored',
    ]);
  });
});

describe('doctor on a manifest the loader rejects', () => {
  dbTest.for([
    [
      'unknown-table-order.json',
      'table order',
      /\/postgres\/tableOrder\/0: "customers" is not a declared table$/,
    ],
    ['wrong-adapter.json', 'adapter', /\/adapter: must be "postgres-subject-graph\.v1"$/],
    ['hostile-subject-key.json', 'subject keys', /\/subjectKeys\/0: "shop_id; drop table x" is invalid/],
    ['not-json.json', 'manifest', /not-json\.json: \/: not valid JSON/],
  ])('%s: each problem is a fail line on the check it concerns', async ([file, name, detail]) => {
    const result = await doctor(`test/fixtures/manifests/broken/${file}`, undefined);
    expect(result.checks.length).toBeGreaterThan(0);
    expect(result.checks.every((check) => check.status === 'fail')).toBe(true);
    expect(result.checks[0]!.name).toBe(name);
    expect(result.checks[0]!.detail).toMatch(detail as RegExp);
  });

  dbTest('every schema problem becomes its own line', async () => {
    const result = await doctor('test/fixtures/manifests/broken/missing-fields.json', undefined);
    expect(result.checks.map((check) => check.detail.replace(/^.*?: /, ''))).toEqual([
      '/: missing required property "adapter"',
      '/: missing required property "subjectKeys"',
      '/: missing required property "postgres"',
    ]);
    expect(new Set(result.checks.map((check) => check.id)).size).toBe(3);
  });
});

describe('doctor reads SQL, it does not guess', () => {
  dbTest(
    'the word from inside extract() or "is distinct from" is not a table, and CTE aliases are left to EXPLAIN',
    async ({ db }) => {
      await loadSql(db, shopSchema);
      const manifest = await shopManifestWith((m) => {
        m.postgres.tables[1]!.where =
          "extract(year from o.placed_at) > 2000 and o.customer_id is distinct from 'x' and o.id in (with w as (select 1 as id) select w.id from w)";
      });
      const result = await doctor(manifest, db);
      expect(lines(result, 'fail')).toEqual([]);
    },
  );
});
