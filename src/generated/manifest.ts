/* eslint-disable */
// Generated from schemas/manifest.schema.json by scripts/generate-types.js. Do not edit: edit the schema and run `npm run generate`.

/**
 * A plain SQL identifier (letters, digits, underscore; not starting with a digit).
 */
export type Identifier = string;
export type SqlSnippet = string;
/**
 * A table name as SQL writes it, optionally schema-qualified: orders, public.orders, "Order Lines", billing."Invoices". Unquoted parts fold to lower case (as Postgres folds them); double-quoted parts are exact ("" is a quote); a keyword is a name here (user, order). replay-env quotes the name in all SQL it generates (docs/app-manifest.md, Table names).
 */
export type TableName = string;
/**
 * One browser action: exactly one of goto, click, fill (with value), press, waitFor.
 */
export type BrowserStep =
  | {
      /**
       * URL, absolute or relative to the probe's url.
       */
      goto: string;
    }
  | {
      /**
       * Selector of the element to click.
       */
      click: string;
    }
  | {
      /**
       * Selector of the input to fill.
       */
      fill: string;
      value: string;
    }
  | {
      /**
       * Key, e.g. Enter or Control+A.
       */
      press: string;
      /**
       * Element to press it on (default: the focused element).
       */
      selector?: string;
    }
  | {
      /**
       * Wait until a selector matches a visible element, or the page shows a text.
       */
      waitFor: {
        selector?: string;
        text?: string;
      };
    };
/**
 * An environment variable name (letters, digits, underscore).
 */
export type EnvVarName = string;

/**
 * A replay-env app manifest: how to scope, export, redact, load and exercise one app's Postgres history. Unknown keys are ignored (the original tool ignored them too); doctor warns about them.
 */
export interface AppManifest {
  /**
   * The app's id; written into every capsule and checked when loading one.
   */
  appId: string;
  /**
   * The only adapter: a subject graph in one Postgres database.
   */
  adapter: 'postgres-subject-graph.v1';
  /**
   * The app's checkout; default working directory for commands (a relative path resolves from the current directory, as in the original tool).
   */
  repoPath?: string;
  /**
   * Columns that identify a subject, e.g. ["tenant_id", "user_id"].
   *
   * @minItems 1
   */
  subjectKeys: Identifier[];
  /**
   * The dev/local identity used by --use-local-subject: subject key -> value.
   */
  localSubject?: {
    [k: string]: string;
  };
  /**
   * Fallback replay database URL when neither --db-url nor the replay env var is set.
   */
  localDatabaseUrl?: string;
  /**
   * Replay loop folder (gate.yaml, judges.yaml); default loops/user-history-replay.
   */
  loop?: string;
  postgres: Postgres;
  commands?: Command[];
  probes?: Probe[];
  redactionRules?: RedactionRule[];
  session?: SessionRecording;
  /**
   * Which Chromium runs browser probes. Default: the binary shipped in the npm package @sparticuz/chromium (Linux x64). The REPLAY_ENV_CHROMIUM environment variable overrides this setting.
   */
  browser?: {
    /**
     * A Chromium or Chrome binary (absolute, or relative to repoPath).
     */
    executablePath?: string;
  };
  egress?: Egress;
  /**
   * Governance of the capsules export-postgres writes (docs/safety.md). Flags win: --encrypt-to replaces encryptTo, --expires-in replaces retentionDays; requireEncryption cannot be switched off by a flag.
   */
  capsule?: {
    /**
     * Encrypt every export to these age recipients (the output must then end with .age), unless --encrypt-to names others.
     *
     * @minItems 1
     *
     * Items: An age X25519 recipient (age-keygen -y prints it).
     */
    encryptTo?: string[];
    /**
     * Refuse an unencrypted export (no recipient from --encrypt-to or encryptTo). Default false.
     */
    requireEncryption?: boolean;
    /**
     * Write expiresAt = export time + this many days into the capsule header, unless --expires-in is given.
     */
    retentionDays?: number;
  };
}
export interface Postgres {
  /**
   * Env var holding the production (export source) URL. Default APP_PROD_DATABASE_URL.
   */
  prodDatabaseUrlEnv?: string;
  /**
   * Env var holding the replay database URL. Default APP_REPLAY_DATABASE_URL.
   */
  replayDatabaseUrlEnv?: string;
  /**
   * SELECTs returning the subject-key columns plus a reason text column; may use the one-row relation `params seed`.
   */
  graphEdges?: SqlSnippet[];
  /**
   * @minItems 1
   */
  tables: Table[];
  /**
   * Load order, parents first; deletes run in reverse. Default: the order of tables.
   */
  tableOrder?: TableName[];
  /**
   * Parent closure at export (docs/app-manifest.md): `parents` adds every row of a manifest table that exported rows reference through a foreign key, transitively, in the same snapshot; `parents-and-reference` also adds the rows of reference tables (no foreign-key path to subjectTable, own where not scoped by graph_keys) that reference an included row of the subjects' tables or their parents (a film's actors), then their parents. Default none.
   */
  closure?: 'none' | 'parents' | 'parents-and-reference';
  /**
   * A table name as SQL writes it, optionally schema-qualified: orders, public.orders, "Order Lines", billing."Invoices". Unquoted parts fold to lower case (as Postgres folds them); double-quoted parts are exact ("" is a quote); a keyword is a name here (user, order). replay-env quotes the name in all SQL it generates (docs/app-manifest.md, Table names).
   */
  subjectTable?: string;
}
export interface Table {
  name: TableName;
  /**
   * A plain SQL identifier (letters, digits, underscore; not starting with a digit).
   */
  alias?: string;
  /**
   * FROM clause. Default `<name> <alias>`; may join graph_keys.
   */
  from?: string;
  where?: SqlSnippet;
  orderBy?: SqlSnippet;
  /**
   * Row JSON expression. Default to_jsonb(<alias>.*).
   */
  rowSql?: string;
  /**
   * Predicate over t (target row) and g (graph key row) used to clear the graph's rows before loading.
   */
  deletePredicate?: string;
}
export interface Command {
  name: string;
  /**
   * Shell command line.
   */
  run: string;
  cwd?: string;
  /**
   * Start it, keep it up while probes run, stop its process tree at the end.
   */
  background?: boolean;
  allowFailure?: boolean;
  timeoutSeconds?: number;
  env?: {
    [k: string]: string;
  };
  /**
   * Readiness check for a background command: an http(s) URL answering, or a TCP port accepting.
   */
  waitFor?: {
    url?: string;
    port?: number;
    host?: string;
    timeoutSeconds?: number;
  };
}
export interface Probe {
  name: string;
  kind: 'http' | 'command' | 'sql' | 'session' | 'browser';
  url?: string;
  method?: string;
  headers?: {
    [k: string]: string;
  };
  body?: string;
  expectStatus?: number;
  expectBodyContains?: string;
  expectJson?: {
    path: string;
    equals?: unknown;
  };
  command?: string;
  cwd?: string;
  sql?: string;
  expectRows?: number;
  expectValue?: unknown;
  /**
   * Recorded session file (session probes).
   */
  session?: string;
  ignoreColumns?: string[];
  unordered?: boolean;
  /**
   * Browser probes: text the page must show (visible text, after the steps).
   */
  expectText?: string;
  /**
   * Browser probes: a selector (CSS, or Playwright's text=/role= forms) that must match a visible element.
   */
  expectSelector?: string;
  /**
   * Browser probes: actions run in order after the page loads.
   *
   * @maxItems 100
   */
  steps?: BrowserStep[];
  /**
   * Browser probes: page size in CSS pixels (default 1280x720).
   */
  viewport?: {
    width: number;
    height: number;
  };
  /**
   * Browser probes: console errors and uncaught page errors do not fail the probe (default false). They are still recorded.
   */
  allowConsoleErrors?: boolean;
  /**
   * Browser probes: regular expressions; console errors and page errors matching one are not counted.
   */
  ignoreConsole?: string[];
  /**
   * Browser probes: save a PNG of the page next to the trace (default true).
   */
  screenshot?: boolean;
  allowFailure?: boolean;
  timeoutSeconds?: number;
}
export interface RedactionRule {
  table?: TableName;
  /**
   * Field names (JSON keys) the rule redacts. Default: none (the rule does nothing).
   */
  fields?: string[];
  /**
   * What to put in place of the value. Default empty (as in the original tool).
   */
  action?: 'empty' | 'null' | 'empty_object' | 'empty_array' | 'hash';
  prefix?: string;
  recursive?: boolean;
}
/**
 * Defaults for `record`.
 */
export interface SessionRecording {
  listen?: string;
  sessionsDir?: string;
  targetUrlEnv?: EnvVarName;
  redact?: boolean;
}
/**
 * The egress guard during run: every command, background command and probe reaches non-loopback hosts only through an HTTP/HTTPS proxy run starts on loopback. Loopback traffic is never touched.
 */
export interface Egress {
  /**
   * deny (default): a request to a host that no stub answers and no allow pattern lets through is refused with 403. passthrough: such requests go to the real host (each recorded as allowed). record: as passthrough, and each real answer (status, content type, text body) is also saved as a stub in recordTo, ready for later replays in mode deny.
   */
  mode?: 'deny' | 'record' | 'passthrough';
  /**
   * Mode record: the YAML file (relative to the manifest, inside its folder) the recorded stubs are written to when the run ends.
   */
  recordTo?: string;
  /**
   * Host patterns let through to the real host: an exact name or *.suffix (any subdomain of suffix). Each such request is recorded as allowed.
   */
  allow?: string[];
  /**
   * Answers the guard gives in place of a provider, over HTTP and HTTPS (a per-run CA is handed to children). The first matching stub answers.
   */
  stubs?: EgressStub[];
}
export interface EgressStub {
  /**
   * Host name or *.suffix.
   */
  host: string;
  /**
   * HTTP method (any when absent).
   */
  method?: string;
  /**
   * Path, without query string; a trailing * matches any rest (any path when absent).
   */
  path?: string;
  status?: number;
  headers?: {
    [k: string]: string;
  };
  /**
   * Response body.
   */
  body?: string;
  /**
   * File holding the response body, relative to the manifest and inside its folder.
   */
  bodyFile?: string;
}
