import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const defaultLoop = 'loops/user-history-replay';

/**
 * The replay loop folder (gate.yaml, judges.yaml): `--loop`, else the manifest's `loop`, else
 * `loops/user-history-replay` in the current directory, else the one shipped with replay-env.
 */
export function resolveLoopDir(options: { flag?: string; manifestLoop?: string; cwd?: string }): string {
  const cwd = options.cwd ?? process.cwd();
  if (options.flag) return resolve(cwd, options.flag);
  if (options.manifestLoop) return resolve(cwd, options.manifestLoop);
  const local = resolve(cwd, defaultLoop);
  if (existsSync(resolve(local, 'gate.yaml'))) return local;
  // src/run/loop.ts and dist/run/loop.js are both two levels below the package root.
  return fileURLToPath(new URL(`../../${defaultLoop}`, import.meta.url));
}
