/* eslint-disable */
// Generated from schemas/golden.schema.json by scripts/generate-types.js. Do not edit: edit the schema and run `npm run generate`.

/**
 * A golden trace (`golden save`, SPEC §10): a run's evidence, normalised and in canonical JSON (sorted keys), that later runs of the same scenario are compared with.
 */
export interface GoldenTrace {
  schemaVersion: 1;
  kind: 'replay-env-golden';
  app: string;
  scenario?: string;
  savedAt: string;
  /**
   * The trace the golden was saved from.
   */
  fromTrace?: string;
  capsuleSha256?: string | null;
  options: NormaliseOptions;
  evidence: GoldenEvidence;
}
/**
 * What the evidence keeps beyond the defaults; later runs are normalised the same way.
 */
export interface NormaliseOptions {
  /**
   * HTTP response headers kept (lower-case names).
   */
  headers: string[];
  /**
   * Commands and command probes whose stdout is kept.
   */
  stdout: string[];
}
export interface GoldenEvidence {
  /**
   * The gate verdict before the golden comparison.
   */
  gate: string | null;
  /**
   * Rows per table loaded and counted in the replay database; null when not materialized.
   */
  materialized: null | {
    [k: string]: number;
  };
  /**
   * Per command: outcome, exit status (stdout when asked).
   */
  commands: {
    [k: string]: Record<string, unknown>;
  };
  /**
   * Per probe: outcome and what it saw (by probe kind).
   */
  probes: {
    [k: string]: Record<string, unknown>;
  };
  /**
   * Per step that made outside requests: how many times each `VERDICT METHOD host:port/path` happened (order-insensitive). Absent in goldens saved before egress was compared: those compare without it.
   */
  egress?: {
    [k: string]: {
      [k: string]: number;
    };
  };
}
