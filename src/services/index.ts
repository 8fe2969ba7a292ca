/**
 * replay-env's programmatic API: the same services the CLI commands call, with typed options and results
 * (a result is what the command prints under `--json`).
 *
 * @example
 * import { exportCapsule, loadManifest, DatabaseUrl } from 'replay-env';
 * const manifest = await loadManifest('config/apps/teamdesk.yaml');
 * await exportCapsule({ manifest, subject: { tenant_id: 'acme', user_id: 'ada' },
 *   databaseUrl: DatabaseUrl.parse(process.env.TEAMDESK_PROD_DATABASE_URL!), out: 'capsules/ada.json',
 *   sinceDays: 180, redaction: 'safe' });
 */
export { openCapsule } from '../capsule/index.js';
export * from '../errors.js';
export { ExitCode } from '../exit-codes.js';
export type { AppManifest } from '../generated/manifest.js';
export type { RunTrace } from '../generated/trace.js';
export {
  loadManifest,
  type ParsedManifest,
  parseManifest,
  parseSubject,
  type Subject,
} from '../manifest/index.js';
export { DatabaseUrl } from '../postgres/database-url.js';
export { startEmbeddedPostgres } from '../postgres/embedded.js';
export { type DoctorOptions, type DoctorResult, runDoctor } from './doctor.js';
export { explainExport, exportCapsule, type ExportOptions, type ExportResult, planExport } from './export.js';
export { inspectCapsule, type InspectResult } from './inspect.js';
export {
  explainMaterialize,
  materialize,
  type MaterializeOptions,
  type MaterializeResult,
  planMaterialize,
} from './materialize.js';
export { buildPlaybook, type PlaybookResult } from './playbook.js';
export { type RecordingProxy, type RecordingProxyOptions, startRecordingProxy } from './record.js';
export { replaySession, type ReplaySessionOptions, type ReplaySessionResult } from './replay.js';
export { type RunOptions, runReplay, type RunResult } from './run.js';
