import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

/**
 * Sorted runs of keys on disk (target-keys.ts): files of one key per line, each sorted by JavaScript string
 * order (`Array.prototype.sort`). Read back streaming, so memory holds one line per run.
 */

/** The union of sorted runs, sorted, each key once. */
export async function* mergeDistinct(files: readonly string[]): AsyncGenerator<string> {
  const heads = await Promise.all(files.map(async (file) => openRun(file)));
  try {
    const live = heads.filter((head) => head.key !== undefined);
    let last: string | undefined;
    while (live.length > 0) {
      let min = 0;
      for (let i = 1; i < live.length; i += 1) if (live[i]!.key! < live[min]!.key!) min = i;
      const head = live[min]!;
      const key = head.key!;
      if (key !== last) {
        last = key;
        yield key;
      }
      await head.next();
      if (head.key === undefined) live.splice(min, 1);
    }
  } finally {
    for (const head of heads) head.close();
  }
}

/** Keys of sorted stream `from` that are not in sorted stream `without`. */
export async function* minus(
  from: AsyncIterable<string>,
  without: AsyncIterable<string>,
): AsyncGenerator<string> {
  const other = without[Symbol.asyncIterator]();
  try {
    let current = await other.next();
    for await (const key of from) {
      while (!current.done && current.value < key) current = await other.next();
      if (current.done || current.value !== key) yield key;
    }
  } finally {
    await other.return?.();
  }
}

interface RunHead {
  key: string | undefined;
  next(): Promise<void>;
  close(): void;
}

async function openRun(file: string): Promise<RunHead> {
  const reader = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  const lines = reader[Symbol.asyncIterator]();
  const head: RunHead = {
    key: undefined,
    async next() {
      const line = await lines.next();
      head.key = line.done ? undefined : line.value;
    },
    close: () => reader.close(),
  };
  await head.next();
  return head;
}
