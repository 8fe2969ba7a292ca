import * as Flags from '@oclif/core/flags';

/** Flags shared by several commands, defined once so names and help stay identical everywhere. */
export const appFlag = Flags.custom<string>({
  char: 'a',
  required: true,
  summary: 'App manifest (JSON or YAML).',
  helpValue: 'MANIFEST',
});

export const dbUrlFlag = Flags.custom<string>({
  summary: 'Database URL (default: the env var the manifest names).',
  helpValue: 'URL',
});

export const subjectFlag = Flags.custom<string>({
  multiple: true,
  summary: 'Subject key=value; repeat for each subject key.',
  helpValue: 'KEY=VALUE',
});

export const rewriteSubjectFlag = Flags.custom<string>({
  multiple: true,
  summary: 'Replace a subject value everywhere in the capsule before loading (key=new-value).',
  helpValue: 'KEY=VALUE',
});

export const profileFlag = Flags.boolean({
  summary: 'Print phase timings (stderr; in the result under --json).',
});

export const allowUnsafeTargetFlag = Flags.boolean({
  summary: 'Allow a production-looking target or the export source. Think twice.',
});

/**
 * Accepted (and ignored) so scripts written for the original tool keep working: it shelled out to psql;
 * replay-env speaks the Postgres protocol itself. REPLAY_ENV_PSQL_COMMAND is ignored likewise.
 */
export const psqlCommandFlag = Flags.string({
  hidden: true,
  summary: 'Ignored: replay-env talks to Postgres natively and does not need psql.',
  deprecated: {
    message: '--psql-command is ignored: replay-env talks to Postgres natively and does not need psql.',
  },
});

/** `--identity`: the age identity file readers decrypt `.age` capsules with. */
export const identityFlag = Flags.string({
  summary: 'age identity file (age-keygen format) to open an encrypted (.age) capsule.',
  env: 'REPLAY_ENV_AGE_IDENTITY',
  helpValue: 'FILE',
});

/** `--allow-expired`: load a capsule whose `expiresAt` has passed (loading commands refuse it otherwise). */
export const allowExpiredFlag = Flags.boolean({
  summary: 'Load a capsule even after its expiresAt (retention) has passed.',
});
