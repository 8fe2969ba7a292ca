import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

import { loadSchema, type SchemaName } from './schemas.js';
import { precompiledValidator, standaloneValidatorSource, validateAgainstSchema } from './validation.js';

const require = createRequire(import.meta.url);

/** Evaluates a standalone validator module's source as CommonJS (as the build's dist/validators/*.cjs). */
function moduleOf(source: string): ValidateFunction & { schemaSha256: string } {
  const module = { exports: {} as unknown };
  new Function('module', 'exports', 'require', source)(module, module.exports, require);
  return module.exports as ValidateFunction & { schemaSha256: string };
}

function compiled(name: SchemaName): ValidateFunction {
  const ajv = new Ajv({ allErrors: true, strict: false, verbose: true });
  addFormatsModule.default(ajv);
  return ajv.compile(loadSchema(name));
}

const fields = (errors: ErrorObject[] | null | undefined) =>
  (errors ?? []).map((e) => ({ ...e, schema: undefined, parentSchema: e.parentSchema, data: e.data }));

describe('precompiled validators (the build writes them: scripts/compile-validators.js)', () => {
  const broken = new URL('../test/fixtures/manifests/broken/', import.meta.url);
  const manifests: unknown[] = readdirSync(broken)
    .filter((file) => !file.startsWith('bad-yaml') && !file.startsWith('not-json'))
    .map((file) => parse(readFileSync(new URL(file, broken), 'utf8')) as unknown);
  const example = parse(readFileSync(new URL('../config/apps/teamdesk.yaml', import.meta.url), 'utf8'));
  manifests.push(example, {
    ...(example as object),
    redactionRules: [{ fields: [1], action: 'hash', x: 1 }],
  });

  it('reports exactly the errors of the schema compiled at run time, on valid and broken manifests', () => {
    const standalone = moduleOf(standaloneValidatorSource('manifest'));
    const runtime = compiled('manifest');
    let invalid = 0;
    for (const manifest of manifests) {
      const ok = runtime(manifest);
      expect(standalone(manifest)).toBe(ok);
      if (!ok) invalid += 1;
      expect(fields(standalone.errors)).toEqual(fields(runtime.errors));
    }
    expect(invalid).toBeGreaterThanOrEqual(8);
  });

  it('compiles every shipped schema, formats included, and names its schema by digest', () => {
    for (const name of ['capsule', 'trace', 'session', 'gate-policy', 'golden', 'scenarios'] as const) {
      const standalone = moduleOf(standaloneValidatorSource(name));
      expect(standalone.schemaSha256).toMatch(/^[0-9a-f]{64}$/);
      expect(standalone({})).toBe(compiled(name)({}));
    }
    expect(validateAgainstSchema('manifest', example)).toEqual([]);
  });

  it('passes over a damaged or foreign validator module instead of failing validation', () => {
    const text = standaloneValidatorSource('golden');
    const good = moduleOf(text);
    expect(precompiledValidator('golden', () => ({ text, load: () => good }))).toBe(good);
    const damaged = [
      () => {
        throw new SyntaxError('Unexpected end of input');
      },
      () => {
        throw Object.assign(new Error('EACCES'), { code: 'EACCES' });
      },
      () => ({ not: 'a function' }),
      () => Object.assign(() => true, { schemaSha256: '0'.repeat(64) }),
    ];
    for (const load of damaged)
      expect(precompiledValidator('golden', () => ({ text, load }))).toBeUndefined();
  });

  it('passes over a module whose text changed since the build, even one that still runs', () => {
    // One character changed in the code: the module still loads and names the right schema, but its
    // checks are not the schema's any more.
    const text = standaloneValidatorSource('golden');
    expect(text).toMatch(/\n\/\/ sha256 [0-9a-f]{64}\n$/);
    const at = text.indexOf('"probes"');
    expect(at).toBeGreaterThan(0);
    const altered = `${text.slice(0, at)}"probeZ"${text.slice(at + 8)}`;
    const runs = moduleOf(altered);
    expect(runs.schemaSha256).toBe(good().schemaSha256);
    for (const source of [altered, text.slice(0, -10), text.replace(/\/\/ sha256 .*\n$/, '')])
      expect(
        precompiledValidator('golden', () => ({ text: source, load: () => moduleOf(source) })),
      ).toBeUndefined();
  });
});

function good() {
  return moduleOf(standaloneValidatorSource('golden'));
}
