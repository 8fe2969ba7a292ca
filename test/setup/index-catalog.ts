/** Anything with `query` (a TestDatabase, or a pg client wrapped as one). */
interface Queryable {
  query<T extends Record<string, unknown> = Record<string, unknown>>(
    sql: string,
    values?: unknown[],
  ): Promise<T[]>;
}

/** What the catalog says about one index, apart from its oid. */
export type IndexEntry = {
  name: string;
  table: string;
  definition: string;
  comment: string | null;
  clustered: boolean;
  replicaIdentity: boolean;
  valid: boolean;
  ready: boolean;
  tablespace: number;
  statisticsTargets: number[];
  /** Objects that depend on the index (a foreign key on a unique index, …). */
  dependents: number;
};

/**
 * Every index of the schema's tables as the catalog describes it (sorted by name), and each index's
 * oid apart: an index dropped and created again has the same entry and a new oid.
 */
export async function indexCatalog(
  db: Queryable,
  schema = 'public',
): Promise<{ indexes: IndexEntry[]; oids: Record<string, number>; constraints: string[] }> {
  const rows = await db.query<IndexEntry & { oid: number }>(
    `select ic.oid::int as oid, ic.relname::text as name, tc.relname::text as "table",
            pg_get_indexdef(i.indexrelid) as definition, obj_description(i.indexrelid, 'pg_class') as comment,
            i.indisclustered as clustered, i.indisreplident as "replicaIdentity", i.indisvalid as valid,
            i.indisready as ready, ic.reltablespace::int as tablespace,
            array(select coalesce(a.attstattarget::int, -1) from pg_attribute a
                   where a.attrelid = i.indexrelid order by a.attnum) as "statisticsTargets",
            (select count(*)::int from pg_depend d
              where d.refclassid = 'pg_class'::regclass and d.refobjid = i.indexrelid) as dependents
       from pg_index i join pg_class ic on ic.oid = i.indexrelid join pg_class tc on tc.oid = i.indrelid
      where tc.relnamespace = $1::regnamespace
      order by ic.relname`,
    [schema],
  );
  const constraints = await db.query<{ c: string }>(
    `select conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid) as c
       from pg_constraint where connamespace = $1::regnamespace order by 1`,
    [schema],
  );
  return {
    indexes: rows.map(({ oid: _oid, ...entry }) => entry),
    oids: Object.fromEntries(rows.map((row) => [row.name, row.oid])),
    constraints: constraints.map((row) => row.c),
  };
}

/** Names of the indexes whose oid differs between two catalogs (dropped and built again). */
export function rebuilt(before: Record<string, number>, after: Record<string, number>): string[] {
  return Object.keys(before)
    .filter((name) => after[name] !== before[name])
    .sort();
}

/**
 * Every foreign key of the schema's tables as the catalog describes it (sorted by table and name), and
 * each one's oid apart: a key dropped and added again has the same entry and a new oid.
 */
export async function foreignKeyCatalog(
  db: Queryable,
  schema = 'public',
): Promise<{ keys: string[]; oids: Record<string, number> }> {
  const rows = await db.query<{ oid: number; name: string; entry: string }>(
    `select c.oid::int as oid, c.conname::text as name,
            concat_ws(' | ', c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid),
                      'deferrable ' || c.condeferrable, 'deferred ' || c.condeferred,
                      'validated ' || c.convalidated, 'comment ' || coalesce(obj_description(c.oid, 'pg_constraint'), '-'),
                      (select string_agg(t.tgenabled::text || ' ' || t.tgfoid::regproc::text, ', ' order by t.tgfoid::regproc::text, t.tgtype)
                         from pg_trigger t where t.tgconstraint = c.oid)) as entry
       from pg_constraint c
      where c.connamespace = $1::regnamespace and c.contype = 'f'
      order by c.conrelid::regclass::text, c.conname`,
    [schema],
  );
  return {
    keys: rows.map((row) => row.entry),
    oids: Object.fromEntries(rows.map((row) => [row.name, row.oid])),
  };
}
