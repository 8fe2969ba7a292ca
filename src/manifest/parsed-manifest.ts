import type {
  AppManifest,
  Command,
  Probe,
  RedactionRule,
  SessionRecording,
  Table,
} from '../generated/manifest.js';

/** A table entry with every default applied (SPEC §3). */
export interface ParsedTable extends Table {
  alias: string;
  from: string;
  rowSql: string;
}

export interface ParsedCommand extends Command {
  background: boolean;
  allowFailure: boolean;
  /** Absolute working directory. */
  cwd: string;
}

export interface ParsedProbe extends Probe {
  allowFailure: boolean;
  expectStatus: number;
  method: string;
  timeoutSeconds: number;
  allowConsoleErrors: boolean;
  ignoreConsole: string[];
  screenshot: boolean;
  viewport: { width: number; height: number };
}

export interface ParsedRedactionRule extends RedactionRule {
  fields: string[];
  action: NonNullable<RedactionRule['action']>;
  prefix: string;
  recursive: boolean;
}

export interface ParsedCapsulePolicy {
  /** age recipients every export is encrypted to; empty = none. */
  encryptTo: string[];
  requireEncryption: boolean;
  retentionDays: number | undefined;
}

/**
 * An app manifest after validation and defaulting. Every field a consumer needs is present:
 * code downstream never re-applies a default.
 */
export interface ParsedManifest {
  /** Absolute path of the manifest file. */
  path: string;
  appId: string;
  adapter: AppManifest['adapter'];
  /** Absolute; the default working directory for commands. */
  repoPath: string;
  subjectKeys: string[];
  localSubject: Record<string, string> | undefined;
  localDatabaseUrl: string | undefined;
  /** Absolute path of the replay loop folder, when the manifest names one. */
  loop: string | undefined;
  /** Absolute path of the Chromium the manifest names for browser probes (`browser.executablePath`). */
  browserExecutable: string | undefined;
  postgres: {
    prodDatabaseUrlEnv: string;
    replayDatabaseUrlEnv: string;
    graphEdges: string[];
    /** Tables in load order (tableOrder first, then any table it does not list, in declaration order). */
    tables: ParsedTable[];
    /** Names in load order; deletes run in reverse. */
    tableOrder: string[];
    /** Parent closure at export (src/export/closure.ts); `none` unless the manifest asks. */
    closure: 'none' | 'parents' | 'parents-and-reference';
    /** The manifest table holding the subjects, when declared. */
    subjectTable: string | undefined;
  };
  commands: ParsedCommand[];
  probes: ParsedProbe[];
  redactionRules: ParsedRedactionRule[];
  session: SessionRecording | undefined;
  /** Capsule governance (`capsule` in the manifest); flags of export-postgres override it. */
  capsule: ParsedCapsulePolicy;
  /** Non-fatal findings (doctor shows them). */
  warnings: string[];
  /** The manifest exactly as written, for tools that need an untouched copy. */
  raw: AppManifest;
}

export const defaultProdDatabaseUrlEnv = 'APP_PROD_DATABASE_URL';
export const defaultReplayDatabaseUrlEnv = 'APP_REPLAY_DATABASE_URL';
export const defaultCommandTimeoutSeconds = 900;
export const defaultProbeTimeoutSeconds = 30;
export const defaultViewport = { width: 1280, height: 720 } as const;

/** The field each probe kind cannot run without (check-manifest refuses a probe without it; run skips it). */
export const probeRequiredField = {
  http: 'url',
  command: 'command',
  sql: 'sql',
  session: 'session',
  browser: 'url',
} as const;
