import { describe, expect, it } from 'vitest';

import { type DemoResult, withoutRemovedFiles } from '../../services/demo.js';
import { renderDemo } from './demo.js';

const finished: DemoResult = {
  verdict: 'continue',
  runExitCode: 0,
  checkExitCode: 0,
  dir: '/tmp/replay-env-demo-x',
  capsule: '/tmp/replay-env-demo-x/capsules/acme-ada.json',
  trace: '/tmp/replay-env-demo-x/loop/trace.json',
  session: '/tmp/replay-env-demo-x/sessions/s.json',
  filesRemoved: false,
  steps: [],
  durationMs: 1000,
  serverStopped: true,
};

describe('demo result after cleanup (issue #14 item 8)', () => {
  it('reports no path into a removed folder, and says it was removed', () => {
    const removed = withoutRemovedFiles(finished);
    expect(removed.filesRemoved).toBe(true);
    expect(JSON.stringify(removed)).not.toContain('/tmp/replay-env-demo-x');
    expect(Object.keys(removed)).not.toEqual(expect.arrayContaining(['dir']));
    expect(renderDemo(removed)).toContain('Server stopped; temporary files removed');
  });

  it('a kept --dir is reported with its files', () => {
    const kept = { ...finished, dir: '/home/me/demo' };
    expect(renderDemo(kept)).toContain('Files kept in /home/me/demo; server stopped.');
  });
});
