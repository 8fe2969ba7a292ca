import { fileURLToPath } from 'node:url';

import { execa, type ResultPromise } from 'execa';

const runJs = fileURLToPath(new URL('../../bin/run.js', import.meta.url));

/** Starts the built CLI's `record` (pseudo user pseudo_user:pseudo-pw) and resolves once it listens. */
export async function startRecord(
  targetUrl: string,
  dir: string,
  extraArgs: string[] = [],
): Promise<{ child: ResultPromise; port: number; output: () => string }> {
  const child = execa(
    'node',
    [
      runJs,
      'record',
      '--listen',
      '127.0.0.1:0',
      '--target-url',
      targetUrl,
      '--pseudo-user',
      'pseudo_user:pseudo-pw',
      '--sessions-dir',
      dir,
      ...extraArgs,
    ],
    // A SIGTERM'd proxy exits in ~20 ms; under a loaded full suite give it 20 s before execa's SIGKILL
    // (default 5 s) so a slow exit shows as a slow exit, not as a signal.
    { reject: false, env: { NO_COLOR: '1' }, all: true, forceKillAfterDelay: 20_000 },
  );
  let output = '';
  child.all!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setInterval(() => {
      const match = /Listening on 127\.0\.0\.1:(\d+)/.exec(output);
      if (match) {
        clearInterval(timer);
        resolve(Number(match[1]));
      }
    }, 50);
    void child.then(() => {
      clearInterval(timer);
      reject(new Error(`record exited early:\n${output}`));
    });
  });
  return { child, port, output: () => output };
}
