import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { OutputCapture } from './output-capture.js';

describe('OutputCapture', () => {
  it('keeps short output whole', () => {
    const capture = new OutputCapture(16);
    capture.push('hello');
    capture.push(Buffer.from(' world'));
    expect(capture.text()).toBe('hello world');
  });

  it('keeps head and tail of long output with a marker, whatever the chunking', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 0, maxLength: 400, unit: 'binary-ascii' }),
        fc.integer({ min: 1, max: 50 }),
        (text, chunk) => {
          const capture = new OutputCapture(64);
          for (let i = 0; i < text.length; i += chunk) capture.push(text.slice(i, i + chunk));
          if (text.length <= 64) expect(capture.text()).toBe(text);
          else {
            expect(capture.text()).toBe(
              `${text.slice(0, 32)}\n…[replay-env: ${text.length - 64} bytes truncated]…\n${text.slice(-32)}`,
            );
          }
        },
      ),
    );
  });
});
