import { logger } from '../log.js';
import type { MaterializeProgress } from './load-steps.js';

/**
 * Wraps a load's progress callback so `--log-level info` shows the phases as JSON lines on stderr
 * (issue #14 item 8): each table's delete and upsert with its rows and the ms since the previous event,
 * verify and commit. Staging row counts come once per chunk, so they log at debug only. Only table names
 * and counts are logged, never values or URLs.
 */
export function logMaterializeProgress(
  onProgress: ((event: MaterializeProgress) => void) | undefined,
): (event: MaterializeProgress) => void {
  let since = performance.now();
  return (event) => {
    onProgress?.(event);
    const now = performance.now();
    const fields = { command: 'materialize', ...event, ms: Math.round(now - since) };
    since = now;
    const message = `materialize: ${event.phase}${event.table ? ` ${event.table}` : ''}`;
    if (event.phase === 'stage') logger().debug(fields, message);
    else logger().info(fields, message);
  };
}
