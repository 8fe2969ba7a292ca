import type { GoldenDiff, Verdict } from '../generated/trace.js';

/** One scenario's outcome in `check`. */
export interface ScenarioCheck {
  id: string;
  summary: string | null;
  /** `not_executable`: a prose entry without a capsule; listed, not run, not counted. */
  verdict: Verdict | 'not_executable';
  /** Differences from the golden; null when there is no golden to compare with. */
  goldenDiffs: number | null;
  diffs: GoldenDiff[];
  golden: string | null;
  gateReasons: string[];
  /** Why the scenario could not run (capsule changed, database error…). */
  error: { code: string; message: string } | null;
  durationMs: number;
  trace: string | null;
}
