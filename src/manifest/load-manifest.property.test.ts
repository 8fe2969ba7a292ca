import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';

import { ManifestError } from '../errors.js';
import { parseManifest } from './load-manifest.js';

// Property tests for the manifest loader: whatever bytes or structure it is given, it either returns a
// manifest or throws a ManifestError (one line, every problem listed) — never a TypeError from deep
// inside — and a valid manifest loads the same from JSON and YAML.

const examplePath = fileURLToPath(new URL('../../config/apps/teamdesk.json', import.meta.url));
const example = JSON.parse(readFileSync(examplePath, 'utf8')) as Record<string, unknown>;
const where = (file: string) => ({ file, path: `/tmp/${file}`, cwd: '/tmp' });

function loads(text: string, file: string): 'ok' | 'rejected' {
  try {
    parseManifest(text, where(file));
    return 'ok';
  } catch (error) {
    expect(error).toBeInstanceOf(ManifestError);
    const manifestError = error as ManifestError;
    expect(manifestError.message).not.toContain('\n');
    expect(manifestError.problems.length).toBeGreaterThan(0);
    return 'rejected';
  }
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Paths (arrays of keys/indexes) of every node of a JSON value. */
function paths(value: Json, prefix: (string | number)[] = []): (string | number)[][] {
  const out = [prefix];
  if (Array.isArray(value)) value.forEach((item, i) => out.push(...paths(item, [...prefix, i])));
  else if (value && typeof value === 'object')
    for (const [key, item] of Object.entries(value)) out.push(...paths(item, [...prefix, key]));
  return out;
}

/** A copy of `root` with the node at `path` replaced (or deleted when `replacement` is undefined). */
function mutate(root: Json, path: (string | number)[], replacement: Json | undefined): Json {
  if (path.length === 0) return replacement ?? null;
  const copy = structuredClone(root) as Record<string | number, Json>;
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, Json>;
  const last = path.at(-1)!;
  if (replacement === undefined) {
    if (Array.isArray(node)) node.splice(Number(last), 1);
    else delete node[last];
  } else node[last] = replacement;
  return copy;
}

const hostileString = fc.oneof(
  fc.string(),
  fc.constantFrom(
    '',
    'orders"; delete from orders; --',
    "x' or '1'='1",
    '$1',
    '\\',
    '\u0000',
    'ünï😀',
    '__proto__',
    'constructor',
    ' ',
    'a.b.c',
  ),
);

describe('manifest loader properties', () => {
  it('any mutation of a valid manifest loads or is a ManifestError, never anything else', () => {
    const allPaths = paths(example as Json);
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            path: fc.constantFrom(...allPaths),
            value: fc.option(fc.oneof(fc.jsonValue() as fc.Arbitrary<Json>, hostileString), {
              nil: undefined,
            }),
          }),
          { minLength: 1, maxLength: 4 },
        ),
        fc.boolean(),
        (mutations, asYaml) => {
          let manifest = example as Json;
          for (const { path, value } of mutations) {
            // A path may no longer exist after an earlier mutation; mutate only what is there.
            try {
              manifest = mutate(manifest, path, value);
            } catch {
              // parent gone
            }
          }
          const text = asYaml ? stringify(manifest) : JSON.stringify(manifest);
          loads(text, asYaml ? 'm.yaml' : 'm.json');
        },
      ),
      { numRuns: 300 },
    );
  });

  it('any text, JSON or YAML, loads or is a ManifestError', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' })), fc.boolean(), (text, asYaml) => {
        loads(text, asYaml ? 'm.yaml' : 'm.json');
      }),
      { numRuns: 300 },
    );
  });

  it('truncating a valid manifest at any point never throws anything but a ManifestError', () => {
    const json = JSON.stringify(example, null, 2);
    const yaml = stringify(example);
    fc.assert(
      fc.property(fc.nat(), (cut) => {
        loads(json.slice(0, cut % json.length), 'm.json');
        loads(yaml.slice(0, cut % yaml.length), 'm.yaml');
      }),
    );
  });

  it('a valid manifest with generated identifiers loads, the same from JSON and YAML, names intact', () => {
    const identifier = fc.stringMatching(/^[a-z_][a-z0-9_]{0,20}$/);
    fc.assert(
      fc.property(
        fc.uniqueArray(identifier, { minLength: 1, maxLength: 3 }),
        fc.uniqueArray(identifier, { minLength: 1, maxLength: 4 }),
        (subjectKeys, tables) => {
          const manifest = {
            appId: 'gen',
            adapter: 'postgres-subject-graph.v1',
            subjectKeys,
            postgres: { tables: tables.map((name) => ({ name })) },
          };
          const fromJson = parseManifest(JSON.stringify(manifest), where('m.json'));
          const fromYaml = parseManifest(stringify(manifest), where('m.yaml'));
          expect({ ...fromYaml, path: fromJson.path }).toEqual(fromJson);
          expect(fromJson.subjectKeys).toEqual(subjectKeys);
          expect(fromJson.postgres.tables.map((table) => table.name)).toEqual(tables);
        },
      ),
    );
  });
});
