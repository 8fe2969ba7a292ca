import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, expect, it } from 'vitest';

import { journalLines } from './journal-lines.js';

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function linesOf(bytes: Buffer): Promise<string[]> {
  dir = await mkdtemp(join(tmpdir(), 'journal-lines-'));
  const file = join(dir, 'j');
  await writeFile(file, bytes);
  const lines: string[] = [];
  for await (const line of journalLines(file)) lines.push(line);
  return lines;
}

it('splits on \\n and \\r\\n, keeps empty lines and a last line without a newline', async () => {
  expect(await linesOf(Buffer.from('a\r\n\nb\u2028c\nlast'))).toEqual(['a', '', 'b\u2028c', 'last']);
  expect(await linesOf(Buffer.from('one\n'))).toEqual(['one']);
  expect(await linesOf(Buffer.alloc(0))).toEqual([]);
});

it('joins a line spread over several read chunks, a character split between chunks included', async () => {
  // 256 KiB chunks: a 2.5 MiB line of 3-byte and 4-byte characters crosses many boundaries mid-character.
  const long = '€😀'.repeat(360_000);
  const lines = await linesOf(Buffer.from(`short\n${long}\n${long}x`));
  expect(lines.map((line) => line.length)).toEqual([5, long.length, long.length + 1]);
  expect(lines[1] === long && lines[2] === `${long}x`).toBe(true);
});
