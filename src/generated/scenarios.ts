/* eslint-disable */
// Generated from schemas/scenarios.schema.json by scripts/generate-types.js. Do not edit: edit the schema and run `npm run generate`.

/**
 * A loop's scenarios.yaml (SPEC §10). A scenario with a `capsule` is executable (`check`, `run --scenario`); one without (the original tool's prose entries) is listed but not run.
 */
export interface ScenariosFile {
  scenarios: Scenario[];
}
export interface Scenario {
  /**
   * letters, digits, '.', '_' and '-', starting with a letter or digit
   */
  id: string;
  summary?: string;
  /**
   * Prose (the original tool's field).
   */
  subject_shape?: string;
  /**
   * Capsule file, relative to the loop folder.
   */
  capsule?: string;
  /**
   * sha256 of the capsule file (64 lower-case hex digits); a different file fails the scenario
   */
  capsule_sha256?: string;
  use_local_subject?: boolean;
  rewrite_subject?: {
    [k: string]: string;
  };
  /**
   * Recorded sessions replayed as session probes (paths relative to the loop folder).
   */
  sessions?: string[];
  /**
   * Probes added to the manifest's for this scenario (same name = replaced); manifest probe syntax.
   */
  probes?: Record<string, unknown>[];
  /**
   * Gate-syntax conditions over the run's facts that must all hold; the original tool's prose map is kept but only checked when the scenario is executable.
   */
  expect?: string[] | Record<string, unknown>;
  ignore?: IgnoreRules;
  /**
   * Golden trace file, relative to the loop folder (default golden/<id>.json).
   */
  golden?: string;
  /**
   * HTTP response headers the golden keeps (default content-type).
   */
  headers?: string[];
  /**
   * Commands and command probes whose stdout the golden keeps.
   */
  stdout?: string[];
}
export interface IgnoreRules {
  /**
   * Evidence paths not compared, e.g. probes.ticket-api.body.requestId; * = one segment, ** = any depth.
   */
  paths?: string[];
  /**
   * sql probe columns not compared.
   */
  columns?: string[];
  /**
   * HTTP response headers not compared.
   */
  headers?: string[];
  /**
   * Regular expressions; matching parts of any string are replaced by <ignored> on both sides.
   */
  patterns?: string[];
}
