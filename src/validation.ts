import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

import { loadSchema, type SchemaName } from './schemas.js';

// ajv-formats is CommonJS; under NodeNext its default export arrives wrapped once more.
const addFormats = addFormatsModule.default;

const ajv = new Ajv({ allErrors: true, strict: false, verbose: true });
addFormats(ajv);
const validators = new Map<SchemaName, ValidateFunction>();

/** Validates `data` against a shipped schema; returns every problem as `/json/pointer: message`. */
export function validateAgainstSchema(name: SchemaName, data: unknown): string[] {
  let validate = validators.get(name);
  if (!validate) {
    validate = ajv.compile(loadSchema(name));
    validators.set(name, validate);
  }
  if (validate(data)) return [];
  return dedupe((validate.errors ?? []).map(describeError));
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
