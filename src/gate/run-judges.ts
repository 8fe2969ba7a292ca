import type { Event, JudgeResult } from '../generated/trace.js';
import { judgeCapsuleIntegrity } from './judges/capsule-integrity.js';
import type { JudgesConfig } from './judges/config.js';
import { judgeCredentials } from './judges/credentials.js';
import { judgeMaterializationIntegrity } from './judges/materialization-integrity.js';
import { judgeProbeOutcomes } from './judges/probe-outcomes.js';
import type {
  CapsuleEvidence,
  CapsuleUnreadable,
  CredentialScan,
  MaterializationEvidence,
} from './judges/types.js';

export interface JudgeInputs {
  capsule: CapsuleEvidence | CapsuleUnreadable | undefined;
  scan: CredentialScan | undefined;
  materialization: MaterializationEvidence;
  events: Event[];
}

/** Runs the enabled judges, in a fixed order; each is a pure function of the evidence. */
export function runJudges(config: JudgesConfig, inputs: JudgeInputs): JudgeResult[] {
  const results: JudgeResult[] = [];
  if (config.enabled.has('capsule_integrity')) results.push(judgeCapsuleIntegrity(inputs.capsule));
  if (config.enabled.has('materialization_integrity')) {
    results.push(judgeMaterializationIntegrity(inputs.materialization));
  }
  if (config.enabled.has('credentials_in_safe_export')) results.push(judgeCredentials(inputs.scan));
  if (config.enabled.has('probe_outcomes')) results.push(judgeProbeOutcomes(inputs.events));
  return results;
}
