import { fileURLToPath } from 'node:url';

import type { DemoResult } from '../../services/demo.js';

const runScript = fileURLToPath(new URL('../../../bin/run.js', import.meta.url));

export function renderDemo(result: DemoResult): string {
  const lines = [
    `Verdict: ${result.verdict ?? 'unknown'} (run exited ${result.runExitCode}, check against the golden exited ${result.checkExitCode}) — ${result.steps.length} steps in ${(result.durationMs / 1000).toFixed(1)} s`,
  ];
  if (result.kept) {
    lines.push(
      `Capsule: ${result.capsule ?? '-'}`,
      `Trace:   ${result.trace ?? '-'}`,
      `Session: ${result.session ?? '-'}`,
      '',
      'The server is still running. Continue by hand:',
      `  cd ${result.dir ?? '.'}`,
      `  alias replay-env='node ${runScript}'   # unless replay-env is on your PATH`,
      ...Object.entries(result.kept.env).map(([name, value]) => `  export ${name}='${value}'`),
      '  replay-env run --app teamdesk.yaml --capsule capsules/acme-ada.json --use-local-subject',
      `  psql "$${Object.keys(result.kept.env)[1]}"`,
      `Stop it and remove everything: ${result.kept.stop}`,
    );
  } else {
    lines.push(
      result.filesRemoved
        ? 'Server stopped; temporary files removed (use --keep or --dir to keep them).'
        : `Files kept in ${result.dir}; server stopped.`,
    );
  }
  return lines.join('\n');
}
