/* eslint-disable */
// Generated from schemas/capsule.schema.json by scripts/generate-types.js. Do not edit: edit the schema and run `npm run generate`.

/**
 * A replay capsule, schemaVersion 1 (SPEC §4). Readers accept keys in any order and ignore unknown keys. This schema describes the header; `tables` rows are validated as objects while streaming.
 */
export interface Capsule {
  schemaVersion: 1;
  /**
   * Present when the file uses replay-env's line layout (docs/capsule-format.md): one row per line, header first, integrity last.
   */
  layout?: 'replay-env/rows-per-line/v1';
  app: string;
  adapter: string;
  exportedAt?: string;
  window?: {
    sinceDays?: number;
    sinceAt?: string;
  };
  redaction?: 'safe' | 'raw';
  source?: {
    kind?: string;
    databaseUrlEnv?: string;
    exportedBy?: string;
    /**
     * host:port/database of the export source (no credentials); lets materialize refuse to load into it.
     */
    database?: string;
    /**
     * The export source as its server reports it; materialize refuses a target with the same identity. Optional: older capsules do not have it.
     */
    server?: {
      /**
       * pg_control_system().system_identifier; null when the exporting role could not read it.
       */
      systemIdentifier?: string | null;
      databaseOid?: string;
      databaseName?: string;
      /**
       * pg_postmaster_start_time()
       */
      startedAt?: string;
      /**
       * the server's port setting
       */
      port?: string;
    };
  };
  /**
   * When the capsule's retention ends (export --expires-in); materialize and run refuse it afterwards unless --allow-expired. Absent: no expiry.
   */
  expiresAt?: string;
  tool?: {
    name?: string;
    version?: string;
  };
  subject: {
    [k: string]: string;
  };
  graph: GraphEntry[];
  tables: {
    [k: string]: {}[];
  };
  integrity?: Integrity;
}
export interface GraphEntry {
  reasons: string[];
  [k: string]: string | unknown[] | string[];
}
export interface Integrity {
  algorithm: 'sha256-rows-v1';
  tables: {
    [k: string]: {
      rows: number;
      sha256: string;
      /**
       * Per column, rows whose value the row's JSON cannot hold exactly: a json/jsonb JSON null (top level, or an element of a json[]/jsonb[]), written like SQL NULL and loaded as SQL NULL; an array whose index does not start at 1, written and loaded from 1. Absent when none.
       */
      lossy?: {
        [k: string]: number;
      };
    };
  };
}
