// The graph's key tuples for the raw baselines' queries (bench/run.js, bench/export-ab.js): one definition,
// so both benches move the same rows.

/**
 * `with graph_keys(…) as (values …)`: the key tuples the workload's own query for them (`graphKeysSql`)
 * gives on `client`, written out as literals. Sorted: a union gives its rows in no set order, and
 * bench/run.js compares each timed run's keys with the first.
 */
export async function graphKeysCte(client, workload) {
  const { rows, fields } = await client.query(workload.graphKeysSql);
  const literal = (value) => `'${String(value).replace(/'/g, "''")}'`;
  const values = rows
    .map((row) => `(${fields.map((f) => literal(row[f.name])).join(', ')})`)
    .sort()
    .join(', ');
  return `with graph_keys(${fields.map((f) => f.name).join(', ')}) as (values ${values})`;
}
