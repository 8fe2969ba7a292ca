// The export command line the benches time (bench/run.js, bench/export-ab.js): one definition, so an A/B
// run measures exactly what `npm run bench` does.

/** `export-postgres` arguments for a workload's subject, every row in scope (no time window). */
export function exportArgs({ manifestPath, workload, capsule, redaction }) {
  return [
    'export-postgres',
    '--app',
    manifestPath,
    ...workload.subject.flatMap((s) => ['--subject', s]),
    '--since-days',
    '36500',
    '--out',
    capsule,
    '--redaction',
    redaction,
    '--json',
  ];
}
