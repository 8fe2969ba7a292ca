import { chmod, readFile } from 'node:fs/promises';
import { join } from 'node:path';

import type { Document } from 'yaml';

import { writeFileAtomically } from '../capsule/atomic-file.js';
import { ReplayEnvError } from '../errors.js';
import { parseYaml } from '../parse-yaml.js';
import { scrubSecrets } from '../secrets.js';

/**
 * Writes a file of the loop folder (scenarios.yaml, loop-state.yaml, a golden trace) atomically. These are
 * meant to be committed and shared, so they end up 0644, not the 0600 of capsules and traces.
 */
export async function writeLoopFile(path: string, text: string): Promise<void> {
  await writeFileAtomically(path, scrubSecrets(text));
  await chmod(path, 0o644);
}

/** A YAML file of the loop as an editable document (comments kept), or `fallback` when it does not exist. */
export async function readLoopYaml(path: string, shown: string, fallback: string): Promise<Document> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new ReplayEnvError('loop_file_invalid', `${shown}: cannot be read`);
    }
    text = fallback;
  }
  // Refuses alias bombs before anything is written (parse-yaml.ts).
  const parsed = parseYaml(text);
  if ('problem' in parsed) throw new ReplayEnvError('loop_file_invalid', `${shown}: ${parsed.problem}`);
  return parsed.document;
}

export const loopStateFileName = 'loop-state.yaml';

export interface GoldenRecord {
  scenario: string;
  file: string;
  saved_at: string;
  trace: string;
}

export interface RoundRecord {
  at: string;
  command: string;
  gate: string;
  scenarios: Record<string, string>;
  junit: string | null;
}

/** Adds (or replaces, by scenario) an entry of loop-state.yaml `golden_traces`. */
export async function recordGoldenInLoopState(
  loopDir: string,
  shown: string,
  record: GoldenRecord,
): Promise<void> {
  await editLoopState(loopDir, shown, 'golden_traces: []\n', (document) => {
    const existing = (document.toJS() as { golden_traces?: unknown } | null)?.golden_traces;
    const entries = (Array.isArray(existing) ? existing : []).filter(
      (entry) => (entry as Partial<GoldenRecord> | null)?.scenario !== record.scenario,
    );
    document.set('golden_traces', document.createNode([...entries, record]));
  });
}

/**
 * Sets loop-state.yaml `last_round` to this round (keeping a `lesson` someone wrote for the previous one
 * out: a new round has not taught anything yet).
 */
export async function recordRoundInLoopState(
  loopDir: string,
  shown: string,
  round: RoundRecord,
): Promise<void> {
  await editLoopState(loopDir, shown, 'last_round: null\n', (document) =>
    document.set('last_round', document.createNode({ ...round, trace: null, lesson: null })),
  );
}

/** Reads loop-state.yaml (comments kept; `fallback` when missing), applies `edit`, writes it back atomically. */
async function editLoopState(
  loopDir: string,
  shown: string,
  fallback: string,
  edit: (document: Document) => void,
): Promise<void> {
  const path = join(loopDir, loopStateFileName);
  const document = await readLoopYaml(path, shown, fallback);
  edit(document);
  await writeLoopFile(path, document.toString({ lineWidth: 0 }));
}
