import { describe, expect, it } from 'vitest';

import { formatSessionValue } from './session-json.js';

describe('formatSessionValue', () => {
  it("lays an event out as the original tool's session files do (seeds/session-proxy-walkthrough.txt)", () => {
    const event = {
      type: 'query_result',
      timestamp: '2025-10-07T21:30:15Z',
      data: {
        query_number: 1,
        columns: ['id', 'name'],
        rows: [
          ['1', 'test1'],
          ['2', null],
        ],
        row_count: 2,
        command_tag: 'SELECT 2',
        error: null,
        details: {},
        params: [],
      },
    };
    expect(`  ${formatSessionValue(event, '  ')}`).toBe(
      [
        '  {',
        '    "type": "query_result",',
        '    "timestamp": "2025-10-07T21:30:15Z",',
        '    "data": {',
        '      "query_number": 1,',
        '      "columns": ["id", "name"],',
        '      "rows": [',
        '        ["1", "test1"],',
        '        ["2", null]',
        '      ],',
        '      "row_count": 2,',
        '      "command_tag": "SELECT 2",',
        '      "error": null,',
        '      "details": {},',
        '      "params": []',
        '    }',
        '  }',
      ].join('\n'),
    );
  });

  it('gives back every value exactly, awkward text, numbers and nested objects in arrays included', () => {
    const awkward = 'a\u2028b\u2029c "q" \\ \n\r\t é 😀 \u0000';
    const value = {
      [awkward]: [awkward, 1.5, -0, true, false, null],
      list: [{ a: [1, [2, { b: awkward }]] }, [], {}],
      skipped: undefined,
    };
    const text = formatSessionValue(value, '');
    expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(value)));
    expect(text).not.toContain('skipped');
  });
});
