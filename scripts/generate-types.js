#!/usr/bin/env node
// Generates src/generated/<name>.ts from schemas/<name>.schema.json, so TypeScript types have one source
// of truth: the JSON Schemas. `--check` exits 1 when a generated file is stale (run by the unit tests).
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

import { compileFromFile } from 'json-schema-to-typescript';
import prettier from 'prettier';

const root = fileURLToPath(new URL('..', import.meta.url));
const check = process.argv.includes('--check');
const banner =
  '/* eslint-disable */\n// Generated from schemas/%s by scripts/generate-types.js. Do not edit: edit the schema and run `npm run generate`.\n';

const prettierOptions = { ...(await prettier.resolveConfig(`${root}/src/index.ts`)), parser: 'typescript' };
let stale = 0;
for (const file of (await readdir(`${root}/schemas`))
  .filter((name) => name.endsWith('.schema.json'))
  .sort()) {
  const name = file.replace('.schema.json', '');
  const source = await compileFromFile(`${root}/schemas/${file}`, {
    bannerComment: banner.replace('%s', file),
    additionalProperties: false,
    ignoreMinAndMaxItems: true,
    cwd: `${root}/schemas`,
    format: false,
  });
  const formatted = await prettier.format(source, prettierOptions);
  const target = `${root}/src/generated/${name}.ts`;
  const current = await readFile(target, 'utf8').catch(() => '');
  if (current === formatted) continue;
  stale += 1;
  if (check) console.error(`stale: src/generated/${name}.ts (run npm run generate)`);
  else await writeFile(target, formatted);
}
if (check && stale > 0) process.exit(1);
