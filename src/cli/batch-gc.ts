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
 * generation's limit, not some MB before it: the command skips it where the live heap is large (closure's
 * key sets), where that would raise peak RSS.
 */
export function preferBatchGarbageCollection(): void {
  setFlagsFromString('--no-incremental-marking');
}
