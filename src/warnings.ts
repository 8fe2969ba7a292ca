import { logger } from './log.js';

/**
 * Warnings a user must see even on success (e.g. `--allow-unsafe-target` used). Domain code calls
 * `warn`; the CLI installs a sink that prints one `warning: …` line on stderr. Without a sink (the
 * programmatic API) they go to the log.
 */
let sink: ((line: string) => void) | undefined;

export function setWarningSink(next: ((line: string) => void) | undefined): void {
  sink = next;
}

const shown = new Set<string>();

/** Shows `line` once per process (run checks a target, then its materialize step checks it again). */
export function warn(line: string): void {
  if (shown.has(line)) return;
  shown.add(line);
  if (sink) sink(line);
  else logger().warn(line);
}
