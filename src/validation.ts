import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

import type { Ajv, ErrorObject, ValidateFunction } from 'ajv';

import { loadSchema, type SchemaName } from './schemas.js';

// ajv is loaded only when a schema must be compiled here: the build precompiles every schema
// (scripts/compile-validators.js → dist/validators/<name>.cjs), and compiling the manifest's schema
// was most of a command's start-up after module loading (~0.1–0.4 s, issue #16).
const require = createRequire(import.meta.url);
const validators = new Map<SchemaName, ValidateFunction>();

/** A validator module the build wrote: ajv's standalone code, plus the digest of its schema. */
type PrecompiledValidator = ValidateFunction & { schemaSha256?: string };

/** Validates `data` against a shipped schema; returns every problem as `/json/pointer: message`. */
export function validateAgainstSchema(name: SchemaName, data: unknown): string[] {
  let validate = validators.get(name);
  if (!validate) {
    validate = precompiledValidator(name) ?? newAjv().compile(loadSchema(name));
    validators.set(name, validate);
  }
  if (validate(data)) return [];
  return dedupe((validate.errors ?? []).map(describeError));
}

/**
 * ajv's standalone code of schema `name` (a CommonJS module), compiled with the same options as at run
 * time, exporting also `schemaSha256` so a validator built from another version of the schema is not used.
 */
export function standaloneValidatorSource(name: SchemaName): string {
  const { _ } = require('ajv') as typeof import('ajv');
  const standalone = (require('ajv/dist/standalone') as typeof import('ajv/dist/standalone/index.js'))
    .default;
  const ajv = newAjv({
    code: { source: true, formats: _`require("ajv-formats/dist/formats").fullFormats` },
  });
  const schema = loadSchema(name);
  const code = standalone(ajv, ajv.compile(schema));
  const body = `${code}\nmodule.exports.schemaSha256 = ${JSON.stringify(schemaDigest(schema))};\n`;
  return `${body}${sealPrefix}${sha256(body)}\n`;
}

/** The module's last line: the SHA-256 of everything before it (a damaged module is not used). */
const sealPrefix = '// sha256 ';

/** A built validator module: its text, and the module itself. */
interface BuiltValidator {
  text: string;
  load(): unknown;
}

function readBuiltValidator(name: SchemaName): BuiltValidator {
  const path = require.resolve(`./validators/${name}.cjs`);
  return { text: readFileSync(path, 'utf8'), load: () => require(path) };
}

/**
 * The build's validator of `name` when there is one for this very schema (never in src/: tests compile).
 * It is only a start-up saving: a module that is missing, unreadable, altered since the build (its text
 * no longer matches its last line's SHA-256: a damaged module may still run, and validate less), not a
 * function or built from another schema is passed over and the shipped schema compiled instead, so a
 * damaged install still validates.
 */
export function precompiledValidator(
  name: SchemaName,
  read: (name: SchemaName) => BuiltValidator = readBuiltValidator,
): ValidateFunction | undefined {
  let validate: PrecompiledValidator;
  try {
    const built = read(name);
    if (!sealed(built.text)) return undefined;
    validate = built.load() as PrecompiledValidator;
  } catch {
    return undefined;
  }
  if (typeof validate !== 'function') return undefined;
  return validate.schemaSha256 === schemaDigest(loadSchema(name)) ? validate : undefined;
}

function sealed(text: string): boolean {
  const at = text.lastIndexOf(sealPrefix);
  return at >= 0 && text.slice(at) === `${sealPrefix}${sha256(text.slice(0, at))}\n`;
}

function schemaDigest(schema: object): string {
  return sha256(JSON.stringify(schema));
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function newAjv(options: ConstructorParameters<typeof Ajv>[0] = {}): Ajv {
  const ajvModule = require('ajv') as typeof import('ajv');
  // ajv-formats is CommonJS; its default export is the plugin function.
  const addFormats = (require('ajv-formats') as typeof import('ajv-formats')).default;
  const ajv = new ajvModule.Ajv({ allErrors: true, strict: false, verbose: true, ...options });
  addFormats(ajv);
  return ajv;
}

function describeError(error: ErrorObject): string {
  const pointer = error.instancePath || '/';
  switch (error.keyword) {
    case 'required':
      return `${pointer}: missing required property "${String(error.params.missingProperty)}"`;
    case 'enum':
      return `${pointer}: must be one of ${(error.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'const':
      return `${pointer}: must be ${JSON.stringify(error.params.allowedValue)}`;
    case 'pattern':
      return `${pointer}: ${JSON.stringify(error.data)} is invalid: ${patternDescription(error)}`;
    case 'additionalProperties':
      return `${pointer}: unknown property "${String(error.params.additionalProperty)}"`;
    default:
      return `${pointer}: ${error.message ?? 'is invalid'}`;
  }
}

function patternDescription(error: ErrorObject): string {
  const description = (error.parentSchema as { description?: string } | undefined)?.description;
  return description ?? `must match ${String(error.params.pattern)}`;
}

function dedupe(lines: string[]): string[] {
  return [...new Set(lines)];
}
