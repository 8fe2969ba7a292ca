// Settings of the embedded PostgreSQL the benches start (docs/performance.md "The benchmark"): the disk
// must not dominate (no fsync, no full-page images), and no background vacuum may land on a timed step.
// With autovacuum on, a VACUUM ANALYZE of the replay tables the last load had filled (about 10 s, twice in
// a three-repetition realistic run: a poller of pg_stat_activity saw it) ran during whichever steps came
// next, raw or tool, and its worker's CPU counted in their server CPU. The benches vacuum and analyse the
// tables they seed themselves.
export const benchServerSettings = {
  fsync: 'off',
  synchronous_commit: 'off',
  full_page_writes: 'off',
  max_wal_size: '8GB',
  autovacuum: 'off',
};
