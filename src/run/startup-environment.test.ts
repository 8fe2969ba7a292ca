import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import {
  entriesToBlank,
  environRange,
  parseEnvironBlock,
  shieldStartupEnvironment,
} from './startup-environment.js';

describe('environRange', () => {
  const tail = (envStart: number, envEnd: number): string =>
    // Fields 3..52 of /proc/<pid>/stat: 46 fillers, then env_start, env_end, exit_code.
    ['S', ...Array.from({ length: 46 }, (_, i) => String(i + 4)), String(envStart), String(envEnd), '0'].join(
      ' ',
    );

  it('reads fields 50 and 51 after the last ")" (a command name may contain ") " and spaces)', () => {
    expect(environRange(`1234 (evil) 1 2 3) ${tail(1000, 2000)}\n`)).toEqual({ start: 1000, end: 2000 });
  });

  it('refuses a line without a sane range', () => {
    expect(environRange('1 (x) S 1 2')).toBeUndefined();
    expect(environRange(`1 (x) ${tail(2000, 1000)}`)).toBeUndefined();
  });
});

describe('parseEnvironBlock / entriesToBlank', () => {
  const block = Buffer.from(
    'PATH=/bin\0PGPASSWORD=s3cret\0NOEQUALS\0EMPTY=\0X=a=b\0DONE=****\0UNI=é\0',
    'utf8',
  );

  it('finds NAME=value entries with the byte offset and length of each value', () => {
    const entries = parseEnvironBlock(block);
    expect(entries.map((entry) => [entry.name, entry.value])).toEqual([
      ['PATH', '/bin'],
      ['PGPASSWORD', 's3cret'],
      ['EMPTY', ''],
      ['X', 'a=b'],
      ['DONE', '****'],
      ['UNI', 'é'],
    ]);
    for (const entry of entries)
      expect(block.toString('utf8', entry.valueOffset, entry.valueOffset + entry.valueLength)).toBe(
        entry.value,
      );
    expect(entries.find((entry) => entry.name === 'UNI')?.valueLength).toBe(2);
  });

  it('blanks withheld, non-empty values not already blank', () => {
    const names = entriesToBlank(block, (name) => name !== 'PATH').map((entry) => entry.name);
    expect(names).toEqual(['PGPASSWORD', 'X', 'UNI']);
  });
});

describe.runIf(process.platform === 'linux')('shieldStartupEnvironment (this test process)', () => {
  it('blanks a start-up variable in /proc/self/environ while process.env keeps its value', () => {
    const environ = (): Map<string, string> =>
      new Map(
        parseEnvironBlock(readFileSync('/proc/self/environ')).map((entry) => [entry.name, entry.value]),
      );
    // Any variable this worker was started with that nothing here needs (not PATH/HOME/NODE_*).
    const before = environ();
    const name = [...before.keys()].find(
      (key) =>
        /^(VITEST|npm_)/.test(key) &&
        (before.get(key) ?? '').length > 0 &&
        process.env[key] === before.get(key),
    );
    expect(name, 'a VITEST*/npm_* start-up variable').toBeDefined();
    const value = before.get(name!)!;
    const outcome = shieldStartupEnvironment((key) => key === name);
    expect(outcome).toEqual({ status: 'shielded', names: [name] });
    expect(environ().get(name!)).toBe('*'.repeat(Buffer.byteLength(value)));
    expect(process.env[name!]).toBe(value);
    // Idempotent: already blank, nothing to do.
    expect(shieldStartupEnvironment((key) => key === name)).toEqual({ status: 'shielded', names: [] });
  });
});
