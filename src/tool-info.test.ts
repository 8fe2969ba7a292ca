import { readFile } from 'node:fs/promises';

import { expect, it } from 'vitest';

import { toolInfo } from './tool-info.js';

it("is replay-env at package.json's version (what export's capsule header and run's trace record)", async () => {
  const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  expect(await toolInfo()).toEqual({ name: 'replay-env', version: pkg.version });
});
