#!/usr/bin/env node
// Build step (npm run build, after tsc): writes dist/validators/<name>.cjs, ajv's standalone code of each
// schemas/<name>.schema.json, so a command validates its manifest without loading ajv or compiling the
// schema at start-up (src/validation.ts; a validator whose schema changed since is not used).
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

import { standaloneValidatorSource } from '../dist/validation.js';

const root = fileURLToPath(new URL('..', import.meta.url));
await mkdir(`${root}/dist/validators`, { recursive: true });
for (const file of (await readdir(`${root}/schemas`)).filter((name) => name.endsWith('.schema.json'))) {
  const name = file.replace('.schema.json', '');
  await writeFile(`${root}/dist/validators/${name}.cjs`, standaloneValidatorSource(name));
}
