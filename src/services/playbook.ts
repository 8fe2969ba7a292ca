import { relative } from 'node:path';

import type { ParsedManifest } from '../manifest/index.js';

export interface PlaybookStep {
  id: string;
  title: string;
  /** A shell command line, ready to paste (placeholders in <angle brackets>). */
  command: string;
  why: string;
}

export interface PlaybookResult {
  app: string;
  manifest: string;
  env: { prodDatabaseUrl: string; replayDatabaseUrl: string };
  steps: PlaybookStep[];
  rules: string[];
}

/**
 * The app-specific sequence of replay commands (SPEC §2 `playbook`), filled in from the manifest:
 * its path, subject keys, env var names, local subject and run loop.
 */
export function buildPlaybook(manifest: ParsedManifest, options: { cwd?: string } = {}): PlaybookResult {
  const cwd = options.cwd ?? process.cwd();
  const app = shellQuote(relative(cwd, manifest.path) || manifest.path);
  const prodEnv = manifest.postgres.prodDatabaseUrlEnv;
  const replayEnv = manifest.postgres.replayDatabaseUrlEnv;
  const subjectFlags = manifest.subjectKeys.map((key) => `--subject ${key}=<${key}>`).join(' ');
  const subjectSlug = manifest.subjectKeys.map((key) => `<${key}>`).join('-');
  const capsule = `capsules/${manifest.appId}/${subjectSlug}.json`;
  const trace = `capsules/${manifest.appId}/${subjectSlug}-trace.json`;
  const localSubject = manifest.localSubject ? ' --use-local-subject' : '';
  const replayUrl = `"$${replayEnv}"`;

  const subjectTable = manifest.postgres.subjectTable ?? '<subject table>';
  const steps: PlaybookStep[] = [
    {
      id: 'init',
      title: 'New app: draft its manifest from the schema (once; skip when the manifest exists)',
      command: `replay-env init --db-url "$${prodEnv}" --subject-table ${subjectTable} --out <new manifest>.yaml`,
      why: 'reads foreign keys in a read-only transaction: owned tables by path, parents via closure, load order, graph edges, redaction suggestions — each explained in a comment',
    },
    {
      id: 'doctor',
      title: 'Check the manifest and the replay database',
      command: `replay-env doctor --app ${app} --db-url ${replayUrl}`,
      why: 'catches missing tables or columns, bad SQL, load-order and foreign-key problems before any data moves',
    },
    {
      id: 'export-dry-run',
      title: 'Review the export SQL without connecting',
      command: `replay-env export-postgres --app ${app} ${subjectFlags} --out ${capsule} --dry-run-sql`,
      why: 'shows exactly what will run on production (read-only, one snapshot)',
    },
    {
      id: 'export',
      title: 'Export the subject graph (redacted)',
      command: `${prodEnv}=<read-only production URL> replay-env export-postgres --app ${app} ${subjectFlags} --since-days 180 --out ${capsule}`,
      why:
        manifest.postgres.closure === 'none'
          ? 'one REPEATABLE READ, READ ONLY transaction; safe redaction is on by default'
          : `one REPEATABLE READ, READ ONLY transaction; safe redaction is on by default; closure adds every referenced parent row${manifest.postgres.closure === 'parents-and-reference' ? ' and the reference rows of included parents' : ''}`,
    },
    {
      id: 'inspect',
      title: 'Summarise the capsule',
      command: `replay-env inspect ${capsule}`,
      why: 'graph size with reasons, per-table row counts, integrity; pipe it into an agent prompt',
    },
    {
      id: 'doctor-capsule',
      title: 'Check the capsule against the replay schema',
      command: `replay-env doctor --app ${app} --db-url ${replayUrl} --capsule ${capsule}`,
      why: 'finds foreign keys the capsule would leave dangling before loading',
    },
    {
      id: 'materialize',
      title: 'Load the capsule into the replay database',
      command: `replay-env materialize-postgres --app ${app} --db-url ${replayUrl} --capsule ${capsule}${localSubject}`,
      why: "one transaction: deletes the graph's rows, loads, verifies counts; any failure leaves the database as it was",
    },
    {
      id: 'run',
      title: "Run the app's commands and probes, and gate",
      command: `replay-env run --app ${app} --db-url ${replayUrl} --capsule ${capsule}${localSubject} --trace-out ${trace}`,
      why: `${manifest.commands.length} command(s) and ${manifest.probes.length} probe(s); exit 0 for continue/warn, non-zero for human_review/block`,
    },
  ];
  return {
    app: manifest.appId,
    manifest: relative(cwd, manifest.path) || manifest.path,
    env: { prodDatabaseUrl: prodEnv, replayDatabaseUrl: replayEnv },
    steps,
    rules: [
      'Export only an explicit subject, and only with a read-only production URL you were given.',
      'Keep --redaction safe (the default); use raw only in a controlled internal environment.',
      'Materialize into local or staging replay databases only; never commit capsules, traces or session files.',
    ],
  };
}

/** Quotes a word for POSIX shells when it needs quoting. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
