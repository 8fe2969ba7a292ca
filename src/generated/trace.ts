/* eslint-disable */
// Generated from schemas/trace.schema.json by scripts/generate-types.js. Do not edit: edit the schema and run `npm run generate`.

export type Event = MaterializeEvent | CommandEvent | BackgroundEvent | ProbeEvent | EgressEvent;
/**
 * Captured output, at most 16 KiB (head and tail kept, a marker in between), secrets scrubbed.
 */
export type Output = string;
export type Verdict = 'continue' | 'warn' | 'human_review' | 'block';

/**
 * The trace `replay-env run` writes (SPEC §6): what ran, what happened, the judges' verdicts, the facts and the gate verdict. Captured output is truncated and scrubbed of secrets.
 */
export interface RunTrace {
  schemaVersion: 1;
  kind: 'replay-env-run-trace';
  app: string;
  startedAt: string;
  finishedAt: string;
  tool?: {
    name: string;
    version: string;
  };
  /**
   * Path of the app manifest.
   */
  manifest?: string;
  /**
   * Folder of the gate and judges policy that was applied.
   */
  loop?: string;
  /**
   * The replay database as host:port/database (never a password).
   */
  database?: string | null;
  capsule: null | CapsuleSummary;
  events: Event[];
  judges: JudgeResult[];
  /**
   * Facts the gate policy was evaluated over (fact name -> value; null = unknown in this run).
   */
  facts: {
    [k: string]: string | number | boolean | null;
  };
  gate: Verdict;
  gateReasons: string[];
  /**
   * Every ship_to_staging_if condition held. Does not change the gate verdict.
   */
  shipToStaging?: boolean;
  /**
   * The run was interrupted by this signal; process trees were stopped.
   */
  interrupted?: 'SIGINT' | 'SIGTERM';
  /**
   * The error that ended the run early, if any.
   */
  error?: {
    code: string;
    message: string;
  };
  golden?: GoldenComparison;
}
export interface CapsuleSummary {
  path: string;
  sha256: string | null;
  rowCounts: RowCounts;
  redaction?: 'safe' | 'raw' | null;
  graphSize?: number | null;
}
export interface RowCounts {
  [k: string]: number;
}
export interface MaterializeEvent {
  kind: 'materialize';
  name: string;
  success: boolean;
  durationMs: number;
  at: string;
  message?: string;
  errorCode?: string;
  strategy?: string;
  subject?: {
    [k: string]: string;
  };
  rowCounts: RowCounts1;
  loaded?: RowCounts2;
  deleted?: RowCounts;
  verified?: boolean;
  skipped?: boolean;
}
/**
 * Rows per table in the capsule.
 */
export interface RowCounts1 {
  [k: string]: number;
}
/**
 * Rows per table loaded and counted in the replay database.
 */
export interface RowCounts2 {
  [k: string]: number;
}
export interface CommandEvent {
  kind: 'command';
  name: string;
  success: boolean;
  durationMs: number;
  at: string;
  allowFailure?: boolean;
  skipped?: boolean;
  message?: string;
  command: string;
  cwd: string;
  /**
   * Exit status, null when killed by a signal or not run.
   */
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  timeoutSeconds?: number;
  stdout: Output;
  stderr: Output;
}
export interface BackgroundEvent {
  kind: 'background';
  name: string;
  success: boolean;
  /**
   * How long it ran (start to stop).
   */
  durationMs: number;
  at: string;
  allowFailure?: boolean;
  skipped?: boolean;
  message?: string;
  command: string;
  cwd: string;
  pid?: number;
  /**
   * Became ready (waitFor) or was running when the probes started.
   */
  ready: boolean;
  readyMs?: number;
  /**
   * What readiness meant: a URL or host:port.
   */
  waitFor?: string;
  /**
   * Exited before replay-env stopped it.
   */
  exitedEarly: boolean;
  exitCode: number | null;
  signal: string | null;
  stdout: Output;
  stderr: Output;
}
export interface ProbeEvent {
  kind: 'probe';
  name: string;
  success: boolean;
  durationMs: number;
  at: string;
  allowFailure?: boolean;
  skipped?: boolean;
  message?: string;
  probeKind: 'http' | 'command' | 'sql' | 'session' | 'browser';
  url?: string;
  method?: string;
  status?: number | null;
  expectStatus?: number;
  expectBodyContains?: string;
  expectJson?: {
    path: string;
    equals?: unknown;
  };
  /**
   * The value found at expectJson.path.
   */
  jsonValue?: unknown;
  body?: Output;
  command?: string;
  cwd?: string;
  exitCode?: number | null;
  signal?: string | null;
  timedOut?: boolean;
  stdout?: Output;
  stderr?: Output;
  sql?: string;
  rowCount?: number | null;
  expectRows?: number;
  /**
   * First column of the first row, as text (sql probes).
   */
  value?: unknown;
  /**
   * Expected first value (sql probes).
   */
  expectValue?: unknown;
  session?: string;
  queriesExecuted?: number;
  matched?: number;
  mismatched?: number;
  errors?: number;
  newErrors?: number;
  /**
   * HTTP response headers (set-cookie values hidden, secrets scrubbed).
   */
  headers?: {
    [k: string]: string;
  };
  /**
   * The response body parsed as JSON, when it is JSON and at most 256 KiB (secrets scrubbed).
   */
  bodyJson?: unknown;
  /**
   * Column names (sql probes).
   */
  columns?: string[];
  /**
   * The first rows as text (sql probes; at most 200 rows, values cut at 1024 characters).
   */
  rows?: (string | null)[][];
  /**
   * Browser probes: the page's URL at the end (after redirects and steps).
   */
  finalUrl?: string;
  expectText?: string;
  expectSelector?: string;
  /**
   * Browser probes: the browser that ran it (name and version).
   */
  browser?: string;
  /**
   * Browser probes: console.error messages (ignoreConsole matches left out), at most 50.
   */
  consoleErrors?: ConsoleMessage[];
  /**
   * Browser probes: uncaught exceptions in the page (ignoreConsole matches left out), at most 50.
   */
  pageErrors?: string[];
  /**
   * Browser probes: requests that failed (network error, or an HTTP status >= 400), at most 50.
   */
  failedRequests?: FailedRequest[];
  /**
   * Browser probes: entries beyond the 50 kept per list (counted in the facts, not listed).
   */
  droppedEvidence?: {
    consoleErrors: number;
    pageErrors: number;
    failedRequests: number;
  };
  /**
   * Browser probes: PNG of the page at the end (path relative to the current directory, mode 0600), null when none was taken.
   */
  screenshot?: string | null;
  /**
   * Browser probes: each step (the initial page load first) with its timing.
   */
  steps?: BrowserStepResult[];
}
export interface ConsoleMessage {
  text: string;
  /**
   * url:line of the code that logged it.
   */
  location?: string;
}
export interface FailedRequest {
  url: string;
  method?: string;
  /**
   * The network error (net::ERR_…) or HTTP <status>.
   */
  reason: string;
}
export interface BrowserStepResult {
  action:
    'load' | 'goto' | 'click' | 'fill' | 'press' | 'waitFor' | 'expectText' | 'expectSelector' | 'screenshot';
  /**
   * URL, selector, key or text the step acted on (never a fill value).
   */
  target?: string;
  durationMs: number;
  ok: boolean;
  message?: string;
}
/**
 * One request (or TLS connection attempt) a command, background command or probe made to a non-loopback host through the egress guard. Never holds headers, bodies or query strings.
 */
export interface EgressEvent {
  kind: 'egress';
  at: string;
  step: 'command' | 'background' | 'probe';
  /**
   * The command or probe that made the request.
   */
  name: string;
  /**
   * HTTP method; CONNECT for an HTTPS connection refused before any request (e.g. the client rejected the run's CA).
   */
  method: string;
  host: string;
  port: number | null;
  /**
   * URL path without the query string; null when no request was seen.
   */
  path: string | null;
  verdict: 'denied' | 'stubbed' | 'allowed';
}
export interface JudgeResult {
  id: string;
  verdict: 'pass' | 'warn' | 'fail';
  reasons: string[];
  /**
   * Credentials judge: where a secret was found. Never the value.
   */
  findings?: SecretFinding[];
}
export interface SecretFinding {
  table: string;
  /**
   * 0-based index of the row in its table.
   */
  row: number;
  /**
   * Field path inside the row, e.g. profile.tokens[0].
   */
  path: string;
  kind: string;
}
/**
 * The run compared with a golden trace (`run --scenario`/`--golden`, `check`).
 */
export interface GoldenComparison {
  /**
   * The golden trace file.
   */
  file: string;
  scenario?: string;
  /**
   * The gate verdict before golden_diffs was known (what a golden saved from this trace records).
   */
  gateBeforeGolden: 'continue' | 'warn' | 'human_review' | 'block';
  diffs: GoldenDiff[];
  /**
   * Differences found (the fact golden_diffs); `diffs` lists at most 200.
   */
  count: number;
}
export interface GoldenDiff {
  /**
   * probe NAME, command NAME, table NAME, gate.
   */
  where: string;
  /**
   * Path inside the evidence, e.g. probes.ticket-api.body.status.
   */
  path: string;
  /**
   * The golden value (absent = the golden had nothing here).
   */
  golden?: unknown;
  /**
   * The value in this run (absent = this run had nothing here).
   */
  actual?: unknown;
}
