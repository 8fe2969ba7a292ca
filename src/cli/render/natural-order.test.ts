import { describe, expect, it } from 'vitest';

import type { InspectResult } from '../../services/inspect.js';
import { renderInspect } from './inspect.js';
import { compareShownValues, sortGraphForDisplay } from './natural-order.js';

describe('graph lists shown numeric-aware (issue #14 item 8)', () => {
  it('sorts integers as numbers, huge ones exactly, then text by code unit', () => {
    const values = ['119', 'b', '16', '-3', '2', 'A', '90071992547409931', '90071992547409930'];
    expect([...values].sort(compareShownValues)).toEqual([
      '-3',
      '2',
      '16',
      '119',
      '90071992547409930',
      '90071992547409931',
      'A',
      'b',
    ]);
  });

  it('orders by the first key, then the next', () => {
    const entries = [
      { t: '10', u: '3' },
      { t: '9', u: '20' },
      { t: '9', u: '100' },
    ];
    expect(sortGraphForDisplay(entries, ['t', 'u'])).toEqual([
      { t: '9', u: '20' },
      { t: '9', u: '100' },
      { t: '10', u: '3' },
    ]);
  });

  it('inspect shows 16 before 119 while the capsule (and --json) keep their order', () => {
    const entries = [
      { user_id: '119', reasons: ['subject'] },
      { user_id: '16', reasons: ['edge'] },
    ];
    const result = {
      path: 'c.json',
      app: 'a',
      adapter: 'x',
      subject: { user_id: '119' },
      file: { bytes: 1, sha256: 'h' },
      integrity: { status: 'verified', problems: [] },
      layout: 'json',
      compressed: false,
      graph: { size: 2, reasons: {}, entries },
      rowCounts: {},
      totalRows: 0,
    } as unknown as InspectResult;
    const text = renderInspect(result);
    expect(text.indexOf('user_id=16 ')).toBeGreaterThan(-1);
    expect(text.indexOf('user_id=16 ')).toBeLessThan(text.indexOf('user_id=119 '));
    expect(entries.map((entry) => entry.user_id)).toEqual(['119', '16']);
  });
});
