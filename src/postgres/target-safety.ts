import { UnsafeTargetError } from '../errors.js';
import type { DatabaseUrl } from './database-url.js';

/** Host suffixes of managed Postgres services; a replay target there is almost certainly not local. */
const managedHostPatterns: RegExp[] = [
  /\.rds\.amazonaws\.com$/,
  /\.compute\.amazonaws\.com$/,
  /\.postgres\.database\.azure\.com$/,
  /\.database\.windows\.net$/,
  /\.cloudsql\./,
  /\.supabase\.(co|com)$/,
  /\.pooler\.supabase\.com$/,
  /\.neon\.tech$/,
  /\.render\.com$/,
  /\.herokuapp\.com$/,
  /\.railway\.app$/,
  /\.rlwy\.net$/,
  /\.aivencloud\.com$/,
  /\.timescale\.com$/,
  /\.tsdb\.cloud\.timescale\.com$/,
  /\.crunchybridge\.com$/,
  /\.ondigitalocean\.com$/,
  /\.cockroachlabs\.cloud$/,
  /\.googleusercontent\.com$/,
];

/** A word "prod"/"production"/"prd"/"live" in a host or database name (separators: . - _ digits). */
const productionWord = /(^|[^a-z])(prod|production|prd|live)([^a-z]|$)/;

/** Why a URL looks like production, or undefined when it does not. Pure: no network. */
export function productionReason(url: DatabaseUrl): string | undefined {
  const host = url.host.toLowerCase();
  const database = url.database.toLowerCase();
  if (productionWord.test(host)) return `host "${url.host}" looks like production`;
  if (productionWord.test(database)) return `database "${url.database}" looks like production`;
  const managed = managedHostPatterns.find((pattern) => pattern.test(host));
  if (managed) return `host "${url.host}" is a managed cloud database`;
  return undefined;
}

export interface TargetSafetyOptions {
  /** The URL the capsule was exported from, when known (same env var set, or recorded in the capsule). */
  exportSource?: DatabaseUrl | undefined;
  /** `--allow-unsafe-target`: the user has said, explicitly, that this target is fine. */
  allowUnsafeTarget?: boolean;
}

/** Throws UnsafeTargetError unless the replay target is safe to write to (or the user overrode the check). */
export function assertSafeReplayTarget(target: DatabaseUrl, options: TargetSafetyOptions = {}): void {
  if (options.allowUnsafeTarget) return;
  const hint =
    'point --db-url at a local or staging replay database, or pass --allow-unsafe-target if you are sure';
  const reason = productionReason(target);
  if (reason) throw new UnsafeTargetError(`refusing to write to ${target.identity()}: ${reason}`, hint);
  if (options.exportSource && options.exportSource.identity() === target.identity()) {
    throw new UnsafeTargetError(
      `refusing to write to ${target.identity()}: it is the database the capsule is exported from`,
      hint,
    );
  }
}
