/** A fact the run computed; `null` means "unknown in this run" (no capsule, not materialized…). */
export type FactValue = string | number | boolean | null;
export type Facts = Record<string, FactValue>;

/** What a fact may hold; conditions in a gate policy are checked against it when the policy loads. */
export type FactSpec =
  | { type: 'boolean'; description: string }
  | { type: 'number'; description: string }
  | { type: 'enum'; values: readonly string[]; description: string };

export const judgeVerdicts = ['pass', 'warn', 'fail'] as const;
export const stepOutcomes = ['pass', 'fail', 'skipped'] as const;

const verdictFact = (description: string): FactSpec => ({
  type: 'enum',
  values: judgeVerdicts,
  description: `${description} (pass, warn or fail; null when the judge is disabled)`,
});
const count = (description: string): FactSpec => ({ type: 'number', description });

/** The facts every run computes, whatever the manifest declares. */
export const baseFacts: Readonly<Record<string, FactSpec>> = {
  materialization_failed: { type: 'boolean', description: 'Loading the capsule failed' },
  materialized: { type: 'boolean', description: 'The capsule was loaded in this run' },
  capsule_integrity: verdictFact('Capsule integrity judge'),
  materialization_integrity: verdictFact('Materialization integrity judge'),
  credentials_in_safe_export: verdictFact('Credentials-in-safe-export judge'),
  probe_outcomes: verdictFact('Probe and command outcomes judge'),
  credentials_found: count('Secrets found in a safe capsule'),
  graph_size: count('Graph entries in the capsule, the subject included'),
  graph_related_users: count('Graph entries other than the subject'),
  capsule_rows: count('Rows in the capsule, all tables'),
  redaction: { type: 'enum', values: ['safe', 'raw'], description: "The capsule's redaction" },
  commands_total: count('Commands in the manifest (background ones included)'),
  commands_failed: count('Commands that failed (allowed failures included)'),
  required_commands_failed: count('Commands that failed and are not allowFailure'),
  commands_skipped: count('Commands not run because an earlier step failed'),
  probes_total: count('Probes in the manifest'),
  probes_failed: count('Probes that failed (allowed failures included)'),
  required_probes_failed: count('Probes that failed and are not allowFailure'),
  probes_skipped: count('Probes not run because an earlier step failed'),
  allowed_failures: count('Commands and probes that failed but are allowFailure'),
  session_mismatches: count('Mismatched results over all session probes'),
  session_errors: count('Queries over all session probes that failed where the recording did not'),
  browser_console_errors: count('Console errors over all browser probes (ignoreConsole matches left out)'),
  browser_page_errors: count('Uncaught page errors over all browser probes (ignoreConsole matches left out)'),
  browser_failed_requests: count('Failed requests (network error or HTTP >= 400) over all browser probes'),
  interrupted: { type: 'boolean', description: 'The run was interrupted (SIGINT/SIGTERM)' },
  egress_denied: count('Requests to non-loopback hosts the egress guard refused'),
  egress_stubbed: count('Requests the egress guard answered with a manifest stub'),
  egress_allowed: count(
    'Requests the egress guard let through to a real host (allow pattern or passthrough)',
  ),
  egress_isolated: {
    type: 'boolean',
    description: 'The egress guard was active for every command and probe that ran and let nothing through',
  },
  golden_diffs: count('Differences from the golden trace (run --scenario/--golden, check); null without one'),
  // Names the original tool's loops/user-history-replay/gate.yaml used, so such a policy keeps working.
  capsule_subject_missing: {
    type: 'boolean',
    description: "The capsule has no subject, or its graph lacks it (original tool's name)",
  },
  safe_export_contains_credentials: {
    type: 'boolean',
    description: "A safe capsule holds credentials (original tool's name)",
  },
  raw_export_requested: {
    type: 'boolean',
    description: "The capsule was exported with redaction raw (original tool's name)",
  },
};

/**
 * Every fact name a policy may use for this manifest: the base facts plus `probe.<name>` and
 * `command.<name>` (pass, fail or skipped) for each declared probe and command.
 */
export function factCatalog(steps: { commands: string[]; probes: string[] }): Map<string, FactSpec> {
  const catalog = new Map<string, FactSpec>(Object.entries(baseFacts));
  for (const name of steps.commands) {
    catalog.set(`command.${name}`, { type: 'enum', values: stepOutcomes, description: `Command ${name}` });
  }
  for (const name of steps.probes) {
    catalog.set(`probe.${name}`, { type: 'enum', values: stepOutcomes, description: `Probe ${name}` });
  }
  return catalog;
}
