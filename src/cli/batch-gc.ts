import { setFlagsFromString } from 'node:v8';

/**
 * For a command that streams a large volume through one short-lived process (export-postgres): V8 stops
 * starting incremental (concurrent) marking cycles. Measured on the 1M-row realistic export
 * (docs/performance.md, tenth session): its heap stays ~13 MB, yet once the young generation has grown V8
 * kept starting a full marking cycle every few hundred ms — 27 to 51 per export, ~0.5 s of CPU on its
 * helper threads, on the cores PostgreSQL needs. Without incremental marking a full collection runs only
 * when the old generation reaches its limit (one per export there); the scavenges of the young
 * generation, where the export's garbage dies, are unchanged.
 *
 * A process-wide V8 setting, so it is made here in the CLI layer, for the command's own process, never
 * in a service an embedding application could call. V8 reads the flag whenever it considers starting
 * a cycle; a cycle already running finishes normally. Without it a collection starts only at the old
 * generation's limit, not some MB before it.
 *
 * Under closure too (eleventh session): its key sets live in Buffers and typed arrays, off V8's heap, so
 * the old generation stays ~13 MB there as well. On the passed-key path V8 started a marking cycle right
 * after each full collection (its slack to the limit, 16 MB, was not above the young generation's
 * size): 13–21 full collections per 1M-row export, 1–2 with it off. Off, the CLI's CPU was lower in
 * every paired run (1M: by 0.02–0.81 s, median ~0.25 s; 4M: 0.4–1.9 s), for ~15–20 MB more peak RSS (the
 * old generation fills to its limit between collections); the one-query path's RSS did not change.
 */
export function preferBatchGarbageCollection(): void {
  setFlagsFromString('--no-incremental-marking');
}
