import { describe, expect } from 'vitest';

import { dbTest } from '../../../setup/database.js';
import { seedTable, tableContents } from '../helpers.js';
import {
  pseudo,
  pythonWith,
  queriesOf,
  recordThrough,
  replayMatches,
  reportMissing,
  reseed,
  resultsOf,
  run,
} from './record-tool.js';

/**
 * The Python drivers, which nobody here wrote, drive the proxy; each session is replayed with
 * --rollback on the same database and must match query for query, leaving the tables as they were.
 */
const python2 = await pythonWith('psycopg2');
const python3 = await pythonWith('psycopg');
reportMissing('python3-psycopg2', python2 === undefined);
reportMissing('python3-psycopg (3)', python3 === undefined);

const connect = (port: number) =>
  `host=127.0.0.1 port=${port} user=${pseudo.user} password=${pseudo.password} dbname=x sslmode=disable`;

const psycopg2Script = `
import sys, psycopg2
conn = psycopg2.connect(sys.argv[1])
cur = conn.cursor()
cur.execute("select name, value from test_data where value > %s order by id", (150,))
assert cur.fetchall() == [("test2", 200), ("test3", 300)]
cur.execute("insert into test_data (name, value) values (%s, %s) returning name", ("py2", 7))
conn.commit()
named = conn.cursor(name="big")   # a server-side cursor: DECLARE + FETCH
named.itersize = 2
named.execute("select g, md5(g::text) from generate_series(1, 7) g")
assert len(list(named)) == 7
named.close()
conn.commit()
cur.execute("update test_data set value = value + %(d)s where name = %(n)s", {"d": 1, "n": "py2"})
cur.execute("select %s::numeric, %s::date, %s, %s::bytea", (1.5, "2024-02-29", None, b"\\x00\\xff"))
print(cur.fetchone())
conn.rollback()
try:
    cur.execute("select 1/0")
except psycopg2.Error as e:
    assert e.pgcode == "22012"
conn.rollback()
conn.close()
`;

const psycopg3Script = `
import sys, psycopg
with psycopg.connect(sys.argv[1]) as conn:
    for i in range(6):   # prepare=True: a named server-side statement, binary parameters
        cur = conn.execute("select name, value, %b::int8 from test_data where value >= %b order by id", (i, 200), prepare=True)
        assert len(cur.fetchall()) == 2
    with conn.cursor(binary=True) as cur:   # binary results
        cur.execute("select id, name, value, created_at, 1.25::numeric, true, 'a'::bytea, now() is not null from test_data order by id")
        assert len(cur.fetchall()) == 3
    conn.execute("insert into test_data (name, value) values (%s, %s)", ("py3", 8))
    conn.commit()
    with conn.cursor(name="srv") as cur:   # server-side cursor
        cur.execute("select g from generate_series(1, 5) g")
        assert [r[0] for r in cur.fetchmany(3)] == [1, 2, 3]
        assert len(cur.fetchall()) == 2
    conn.commit()
    with conn.transaction():
        conn.execute("update test_data set value = value + 1 where name = %s", ("py3",))
    try:
        conn.execute("select * from missing_table")
    except psycopg.errors.UndefinedTable:
        conn.rollback()
`;

async function runPython(python: string, script: string, port: number): Promise<void> {
  await run(python, ['-c', script, connect(port)], { timeout: 30_000 });
}

describe('psycopg2 and psycopg 3 through the recording proxy, replayed with --rollback', () => {
  dbTest.skipIf(python2 === undefined)('psycopg2: params, server-side cursor, errors', async ({ db }) => {
    await db.query(seedTable);
    const recording = await recordThrough(db.url, (port) => runPython(python2!, psycopg2Script, port));
    const sqls = queriesOf(recording.events).map((query) => query.sql);
    expect(sqls.some((sql) => /DECLARE "big"/i.test(sql))).toBe(true);
    expect(resultsOf(recording.events).some((result) => result.error?.code === '22012')).toBe(true);
    await reseed(db);
    const before = await tableContents(db);
    await replayMatches(recording.file, db.url, ['id']);
    expect(await tableContents(db)).toEqual(before);
  });

  dbTest.skipIf(python3 === undefined)(
    'psycopg 3: binary params, prepare=True, binary cursor, server-side cursor',
    async ({ db }) => {
      await db.query(seedTable);
      const recording = await recordThrough(db.url, (port) => runPython(python3!, psycopg3Script, port));
      const queries = queriesOf(recording.events);
      expect(queries.some((query) => query.param_formats?.includes(1))).toBe(true);
      expect(queries.some((query) => query.statement !== undefined && query.statement !== '')).toBe(true);
      await reseed(db);
      const before = await tableContents(db);
      await replayMatches(recording.file, db.url, ['id']);
      expect(await tableContents(db)).toEqual(before);
    },
  );
});
