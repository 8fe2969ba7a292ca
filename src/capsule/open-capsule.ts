import { CapsuleError } from '../errors.js';
import { capsuleAccess } from './capsule-access.js';
import { genericReader } from './generic-reader.js';
import { lineLayoutLines } from './line-layout-parser.js';
import { lineLayoutReader, probeLineLayout } from './line-layout-reader.js';
import { openTextSource } from './reader-source.js';
import type { CapsuleReader } from './reader-types.js';

/**
 * Opens a capsule (`.json` or gzip, detected by its magic bytes) and validates its header. A file in
 * replay-env's line layout is read line by line without parsing rows; any other valid capsule JSON
 * (the original tool's, or a line-layout file that was pretty-printed again) is streamed through a
 * JSON tokenizer. Throws FileError when the file cannot be read, CapsuleError when it is not a capsule.
 *
 * @example
 * const capsule = await openCapsule('capsules/shop/s1-c1.json');
 * for await (const { table, text } of capsule.rows()) …; // throws at the end on a count/hash mismatch
 * capsule.summary().integrity.status; // 'verified'
 */
export async function openCapsule(path: string): Promise<CapsuleReader> {
  const reader = await openAnyLayout(path);
  refuseIfExpired(reader);
  return reader;
}

async function openAnyLayout(path: string): Promise<CapsuleReader> {
  if (await claimsLineLayout(path)) {
    const header = await probeLineLayout(path);
    if (header) return lineLayoutReader(path, header);
  }
  return genericReader(path);
}

/** Past `expiresAt`, loading commands (capsuleAccess().refuseExpired) refuse the capsule. */
function refuseIfExpired(reader: CapsuleReader): void {
  const expiresAt = reader.header.expiresAt;
  if (!expiresAt || !capsuleAccess().refuseExpired) return;
  const at = Date.parse(expiresAt);
  if (Number.isNaN(at) || at <= Date.now())
    throw new CapsuleError(`capsule ${reader.path} expired at ${expiresAt}`, {
      code: 'capsule_expired',
      hint: 'export it again, or pass --allow-expired to load it anyway (replay-env prune --expired removes it)',
    });
}

/** Whether the first three lines are exactly the line layout's opening. */
async function claimsLineLayout(path: string): Promise<boolean> {
  const source = await openTextSource(path);
  const iterator = source.chunks[Symbol.asyncIterator]();
  const wanted = `${lineLayoutLines.open}\n${lineLayoutLines.version}\n${lineLayoutLines.layout}\n`;
  let text = '';
  try {
    while (text.length < wanted.length) {
      const next = await iterator.next();
      if (next.done) break;
      text += next.value;
    }
  } finally {
    await iterator.return?.(undefined);
  }
  return text.startsWith(wanted);
}
