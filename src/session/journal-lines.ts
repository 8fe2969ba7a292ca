import { createReadStream } from 'node:fs';

/**
 * The lines of a journal file, without their `\n` (or `\r\n`), the last one even when it has no newline.
 * Splits bytes and decodes each line once: readline on a 'utf8' stream spent nearly half of a 210 MB
 * journal's 12 s finalisation in its string decoder and line splitting.
 */
export async function* journalLines(path: string): AsyncGenerator<string> {
  let pending: Buffer[] = [];
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 18 }) as AsyncIterable<Buffer>) {
    let start = 0;
    let newline = chunk.indexOf(10);
    while (newline !== -1) {
      const line =
        pending.length === 0
          ? chunk.subarray(start, newline)
          : Buffer.concat([...pending, chunk.subarray(start, newline)]);
      pending = [];
      yield decode(line);
      start = newline + 1;
      newline = chunk.indexOf(10, start);
    }
    if (start < chunk.length) pending.push(chunk.subarray(start));
  }
  if (pending.length > 0) yield decode(Buffer.concat(pending));
}

function decode(line: Buffer): string {
  const end = line.length > 0 && line[line.length - 1] === 13 ? line.length - 1 : line.length;
  return line.toString('utf8', 0, end);
}
