import { readFile } from 'node:fs/promises';

import { FileError, ReplayEnvError } from '../errors.js';
import type { GoldenTrace } from '../generated/golden.js';
import type { RunTrace } from '../generated/trace.js';
import { validateAgainstSchema } from '../validation.js';
import { canonicalJson } from './canonical.js';
import { type NormaliseOptions, normaliseTrace } from './normalise.js';

export type { GoldenTrace };

/** A golden file that is missing, not JSON, or not a golden trace. */
export class GoldenError extends ReplayEnvError {
  constructor(message: string, hint?: string) {
    super('golden_invalid', message, { hint });
  }
}

/** Reads and validates a golden trace; `shown` is the name used in messages. */
export async function readGolden(path: string, shown = path): Promise<GoldenTrace> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new GoldenError(
      `golden trace ${shown}: ${missing ? 'file not found' : 'cannot be read'}`,
      missing ? 'save one with `replay-env golden save TRACE --loop DIR --scenario ID`' : undefined,
    );
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new GoldenError(`golden trace ${shown}: not valid JSON`);
  }
  const problems = validateAgainstSchema('golden', data);
  if (problems.length > 0) throw new GoldenError(`golden trace ${shown}: ${problems[0]}`);
  return data as GoldenTrace;
}

/** Reads a run trace (the input of `golden save`). */
export async function readTrace(path: string, shown = path): Promise<RunTrace> {
  let data: unknown;
  try {
    data = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new FileError(`trace ${shown}: ${code === 'ENOENT' ? 'file not found' : 'not valid JSON'}`);
  }
  const problems = validateAgainstSchema('trace', data);
  if (problems.length > 0) throw new FileError(`trace ${shown}: not a run trace: ${problems[0]}`);
  return data as RunTrace;
}

/** The golden document for a trace, as canonical JSON text. */
export function goldenFromTrace(
  trace: RunTrace,
  options: NormaliseOptions,
  meta: { scenario?: string; fromTrace?: string; savedAt?: string },
): { golden: GoldenTrace; text: string } {
  const golden: GoldenTrace = {
    schemaVersion: 1,
    kind: 'replay-env-golden',
    app: trace.app,
    ...(meta.scenario ? { scenario: meta.scenario } : {}),
    savedAt: meta.savedAt ?? new Date().toISOString(),
    ...(meta.fromTrace ? { fromTrace: meta.fromTrace } : {}),
    capsuleSha256: trace.capsule?.sha256 ?? null,
    options,
    evidence: normaliseTrace(trace, options),
  };
  return { golden, text: canonicalJson(golden) };
}
