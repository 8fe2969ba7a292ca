import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

import { FileError } from '../errors.js';
import { scrubSecrets } from '../secrets.js';

/**
 * Writes text (a trace, a JUnit report) through a temp file and a rename, so a reader never sees a half
 * file; mode 0600 because traces describe customer data. Registered secrets are scrubbed once more.
 */
export async function writeReport(path: string, text: string): Promise<void> {
  const temp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(temp, scrubSecrets(text), { mode: 0o600 });
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw new FileError(
      `cannot write ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      {
        cause: error,
      },
    );
  }
}
