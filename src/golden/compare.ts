import type { GoldenComparison, RunTrace } from '../generated/trace.js';
import { diffEvidence } from './diff.js';
import type { GoldenTrace } from './golden-file.js';
import { applyIgnore, type CompiledIgnore } from './ignore.js';
import { normaliseTrace } from './normalise.js';

/** What `run` compares with: a golden trace, the rules of its scenario, and where it came from. */
export interface GoldenInput {
  golden: GoldenTrace;
  /** Path shown in the trace (relative to the working directory). */
  file: string;
  scenario?: string;
  ignore: CompiledIgnore;
}

/**
 * Compares a finished run with a golden trace. `trace.gate` must still be the gate without the golden
 * fact: that is what the golden recorded. The app must be the same: another app's golden is all diffs.
 */
export function compareWithGolden(trace: RunTrace, input: GoldenInput): GoldenComparison {
  const normalised = normaliseTrace(trace, input.golden.options);
  // A golden saved before egress was part of the evidence has no `egress`: it compares without it.
  const { egress, ...withoutEgress } = normalised;
  const actual = input.golden.evidence.egress === undefined ? withoutEgress : { ...withoutEgress, egress };
  const { diffs, total } = diffEvidence(
    applyIgnore(input.golden.evidence, input.ignore),
    applyIgnore(actual, input.ignore),
    input.ignore.paths,
  );
  const appDiff =
    input.golden.app === trace.app
      ? []
      : [{ where: 'app', path: 'app', golden: input.golden.app, actual: trace.app }];
  return {
    file: input.file,
    ...(input.scenario ? { scenario: input.scenario } : {}),
    gateBeforeGolden: trace.gate,
    count: total + appDiff.length,
    diffs: [...appDiff, ...diffs],
  };
}
