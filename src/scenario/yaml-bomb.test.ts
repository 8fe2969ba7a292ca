import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { GatePolicyError } from '../gate/errors.js';
import { factCatalog } from '../gate/facts.js';
import { parseJudgesConfig } from '../gate/judges/config.js';
import { parseGatePolicy } from '../gate/policy.js';
import { readLoopYaml } from './loop-files.js';
import { loadScenarios } from './scenarios-file.js';

/** "Billion laughs": nine levels of nine aliases each (9^9 nodes once expanded). */
function aliasBomb(tail: string): string {
  let text = 'l0: &l0 [x, x, x, x, x, x, x, x, x]\n';
  for (let level = 1; level < 10; level += 1)
    text += `l${level}: &l${level} [${Array.from({ length: 9 }, () => `*l${level - 1}`).join(', ')}]\n`;
  return `${text}${tail}`;
}

describe('loop YAML alias bombs', () => {
  const dirs: string[] = [];
  afterAll(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

  it('scenarios.yaml: one clear error (scenarios_invalid), not an internal error', async () => {
    const loop = await mkdtemp(join(tmpdir(), 'replay-env-bomb-'));
    dirs.push(loop);
    await writeFile(join(loop, 'scenarios.yaml'), aliasBomb('scenarios: []\n'));
    await expect(loadScenarios(loop)).rejects.toMatchObject({
      code: 'scenarios_invalid',
      message: expect.stringMatching(/not valid YAML: .*alias/i) as unknown,
    });
  });

  it('loop-state.yaml: refused before it is rewritten', async () => {
    const loop = await mkdtemp(join(tmpdir(), 'replay-env-bomb-'));
    dirs.push(loop);
    const path = join(loop, 'loop-state.yaml');
    await writeFile(path, aliasBomb('golden_traces: []\n'));
    await expect(readLoopYaml(path, 'loop-state.yaml', '')).rejects.toMatchObject({
      code: 'loop_file_invalid',
    });
  });

  // The loop's other YAML files went through yaml's toJS unguarded: both were internal errors (exit 1).
  it.each([
    ['an alias bomb', aliasBomb('block_if: []\n'), /alias/i],
    ['an alias to no anchor', 'block_if: *nowhere\n', /alias/i],
  ])('gate.yaml and judges.yaml with %s: one clear error (GatePolicyError)', (_name, text, reason) => {
    const where = {
      file: '/x/gate.yaml',
      shown: 'gate.yaml',
      catalog: factCatalog({ commands: [], probes: [] }),
    };
    expect(() => parseGatePolicy(text, where)).toThrow(GatePolicyError);
    expect(() => parseGatePolicy(text, where)).toThrow(reason);
    expect(() => parseJudgesConfig(text, 'judges.yaml')).toThrow(GatePolicyError);
    expect(() => parseJudgesConfig(text, 'judges.yaml')).toThrow(/judges\.yaml: not valid YAML: .*alias/i);
  });
});
