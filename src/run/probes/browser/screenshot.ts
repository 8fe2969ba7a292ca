import { createHash } from 'node:crypto';
import { basename, dirname, extname, join } from 'node:path';

/**
 * Where a probe's screenshot goes: next to the trace, `<trace name>.<probe name>.png`
 * (`run-trace.json` → `run-trace.home-page.png`). A probe name that is not a safe file name is reduced to
 * one and given a short hash of the real name, so two probes never share a file.
 */
export function screenshotPath(tracePath: string, probeName: string): string {
  const stem = basename(tracePath, extname(tracePath));
  const safe = probeName.replace(/[^A-Za-z0-9_-]+/g, '-').slice(0, 80);
  const suffix =
    safe === probeName ? safe : `${safe}-${createHash('sha256').update(probeName).digest('hex').slice(0, 8)}`;
  return join(dirname(tracePath), `${stem}.${suffix}.png`);
}
