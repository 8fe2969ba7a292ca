/**
 * `indexes`: secondary indexes built again after a direct COPY (deferred-indexes.ts); `foreignKeys`:
 * foreign keys added again, checking every row, after the last table (deferred-foreign-keys.ts).
 */
export type MaterializePhase =
  'stage' | 'check' | 'delete' | 'upsert' | 'indexes' | 'foreignKeys' | 'verify' | 'commit';

/** Phase timings of one load (ms); `end(phase)` adds the time since the previous `end` to that phase. */
export function phaseTimer(): {
  phases: Record<MaterializePhase, number>;
  end(phase: MaterializePhase): void;
} {
  const phases: Record<MaterializePhase, number> = {
    stage: 0,
    check: 0,
    delete: 0,
    upsert: 0,
    indexes: 0,
    foreignKeys: 0,
    verify: 0,
    commit: 0,
  };
  let since = performance.now();
  return {
    phases,
    end(phase) {
      const now = performance.now();
      phases[phase] += Math.round(now - since);
      since = now;
    },
  };
}
