import { readFileSync } from 'node:fs';

/** Names of the JSON Schemas shipped in `schemas/` (the single source of truth for file formats). */
export type SchemaName =
  'manifest' | 'capsule' | 'trace' | 'session' | 'gate-policy' | 'golden' | 'scenarios';

const cache = new Map<SchemaName, object>();

/** Loads `schemas/<name>.schema.json`; works from `src/` (tests) and `dist/` (built CLI) alike. */
export function loadSchema(name: SchemaName): object {
  let schema = cache.get(name);
  if (!schema) {
    schema = JSON.parse(
      readFileSync(new URL(`../schemas/${name}.schema.json`, import.meta.url), 'utf8'),
    ) as object;
    cache.set(name, schema);
  }
  return schema;
}
