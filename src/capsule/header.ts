import { CapsuleError } from '../errors.js';
import type { Capsule, GraphEntry } from '../generated/capsule.js';
import { validateAgainstSchema } from '../validation.js';

/** The `layout` value of replay-env's line layout (docs/capsule-format.md). */
export const lineLayoutId = 'replay-env/rows-per-line/v1';

/** How a capsule was read: replay-env's line layout (fast path) or the generic streaming JSON parser. */
export type CapsuleLayout = typeof lineLayoutId | 'generic';

/** Everything in a capsule except its rows and integrity trailer. Unknown keys are dropped. */
export interface CapsuleHeader {
  schemaVersion: 1;
  app: string;
  adapter: string;
  subject: Record<string, string>;
  graph: GraphEntry[];
  exportedAt?: string;
  window?: Capsule['window'];
  redaction?: Capsule['redaction'];
  source?: Capsule['source'];
  tool?: Capsule['tool'];
  /** ISO time after which materialize/run refuse the capsule (governance). */
  expiresAt?: string;
  /** How the file is read; a file that claims the line layout but breaks it is read as `generic`. */
  layout: CapsuleLayout;
}

export type CapsuleIntegrity = NonNullable<Capsule['integrity']>;

const headerKeys = [
  'schemaVersion',
  'app',
  'adapter',
  'subject',
  'graph',
  'exportedAt',
  'window',
  'redaction',
  'source',
  'tool',
  'expiresAt',
] as const;

/**
 * Validates the top-level keys of a capsule (rows excluded) against `schemas/capsule.schema.json` and
 * returns the typed header. `hasTables` tells whether a `tables` object was seen, so a capsule without
 * one is reported as such. Every problem is reported at once, in one line.
 */
export function validateCapsuleHeader(
  raw: Record<string, unknown>,
  options: { file: string; hasTables: boolean; layout: CapsuleLayout },
): CapsuleHeader {
  const candidate: Record<string, unknown> = { ...raw };
  delete candidate.tables;
  if (options.hasTables) candidate.tables = {};
  const problems = validateAgainstSchema('capsule', candidate);
  if (problems.length > 0) {
    throw new CapsuleError(`capsule ${options.file} is invalid: ${problems.join('; ')}`, {
      hint: 'a capsule is written by replay-env export-postgres (or the original tool); see docs/capsule-format.md',
    });
  }
  const header: Record<string, unknown> = { layout: options.layout };
  for (const key of headerKeys) if (raw[key] !== undefined) header[key] = raw[key];
  return header as unknown as CapsuleHeader;
}

/** Checks an `integrity` trailer against the schema; returns problems (empty when fine). */
export function integrityProblems(value: unknown): string[] {
  return validateAgainstSchema('capsule', {
    schemaVersion: 1,
    app: 'x',
    adapter: 'x',
    subject: { k: 'v' },
    graph: [],
    tables: {},
    integrity: value,
  }).map((problem) => problem.replace(/^\/integrity/, 'integrity'));
}
