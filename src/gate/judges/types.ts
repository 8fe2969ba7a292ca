import type { JudgeResult, SecretFinding } from '../../generated/trace.js';

export type { JudgeResult, SecretFinding };

export const judgeIds = [
  'capsule_integrity',
  'materialization_integrity',
  'credentials_in_safe_export',
  'probe_outcomes',
] as const;
export type JudgeId = (typeof judgeIds)[number];

/** What the run learned about the capsule (from inspect), in the shape the judges need. */
export interface CapsuleEvidence {
  path: string;
  subject: Record<string, string>;
  subjectKeys: string[];
  /** Graph entries, subject included. */
  graphSize: number;
  graphHasSubject: boolean;
  tables: Record<string, number>;
  integrity: { status: 'verified' | 'counts-only' | 'failed'; problems: string[] };
  redaction: 'safe' | 'raw' | null;
  sha256: string | null;
}

/** The capsule could not be read at all. */
export interface CapsuleUnreadable {
  path: string;
  error: string;
}

export type MaterializationEvidence =
  | { status: 'skipped'; reason: string }
  | { status: 'failed'; message: string }
  | {
      status: 'done';
      verified: boolean;
      /** Rows per table in the capsule. */
      rowCounts: Record<string, number>;
      /** Rows per table counted in the replay database after loading. */
      loaded: Record<string, number>;
      /** Capsule rows whose values differ in the replay database, per table (value verification). */
      valueDifferences?: Record<string, number>;
      /** Loaded rows whose json/jsonb array shape the capsule cannot tell (materialize's nestedJsonArrays). */
      nestedJsonArrays?: Record<string, number>;
      /** Per table and column, rows whose value the capsule could not hold exactly (materialize's lossy). */
      lossy?: Record<string, Record<string, number>>;
    };

export interface CredentialScan {
  redaction: 'safe' | 'raw' | null;
  /** False when the capsule was not scanned (raw export, unreadable capsule). */
  scanned: boolean;
  rowsScanned: number;
  findings: SecretFinding[];
  error?: string;
}
