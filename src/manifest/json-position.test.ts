import { describe, expect, it } from 'vitest';

import { parseManifest } from './load-manifest.js';

const where = { file: 'm.json', path: '/x/m.json', cwd: '/x' };

function problemOf(text: string): string {
  try {
    parseManifest(text, where);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected a ManifestError');
}

describe('manifest JSON syntax errors give line and column (issue #14 item 8)', () => {
  it.each([
    ['trailing comma', '{\n  "appId": "x",\n}\n', 3, 1],
    ['missing colon', '{\n  "appId" "x"\n}', 2, 11],
    ['unclosed object', '{\n  "appId": "x"', 2, 15],
    ['second line of many', '{"a": 1,\n "b": [1 2]}', 2, 10],
  ])('%s', (_name, text, line, column) => {
    expect(problemOf(text)).toMatch(
      new RegExp(`^m\\.json: /: not valid JSON \\(line ${line}, column ${column}\\): \\S`),
    );
  });

  it('stays one line, and without a position when V8 gives none', () => {
    const message = problemOf('{\n  "appId": nope\n}');
    expect(message).toMatch(/^m\.json: \/: not valid JSON: Unexpected token/);
    expect(message).not.toContain('\n');
  });
});
