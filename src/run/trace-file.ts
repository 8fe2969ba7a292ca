import { writeFileAtomically } from '../capsule/atomic-file.js';
import { scrubSecrets } from '../secrets.js';

/**
 * Writes a report (a trace, a JUnit file) as capsules are written — temp file, fsync, rename, mode 0600,
 * stale temp files of killed runs removed — so a reader never sees half a file. Registered secrets are
 * scrubbed once more on the way out.
 */
export async function writeReport(path: string, text: string): Promise<void> {
  await writeFileAtomically(path, scrubSecrets(text));
}
