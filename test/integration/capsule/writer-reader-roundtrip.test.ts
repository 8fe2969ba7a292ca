import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { openCapsule } from '../../../src/capsule/index.js';
import { createCapsuleWriter } from '../../../src/capsule/writer.js';
import { capsuleDir } from '../../setup/capsules.js';

async function readAll(path: string) {
  const capsule = await openCapsule(path);
  const rows: { table: string; text: string }[] = [];
  for await (const row of capsule.rows()) rows.push(row);
  return { capsule, rows, summary: capsule.summary() };
}

describe('reader and writer agree', () => {
  it('reads what src/capsule/writer.ts writes (plain and .gz)', async () => {
    const dir = await capsuleDir();
    for (const name of ['written.json', 'written.json.gz']) {
      const writer = await createCapsuleWriter(join(dir, name), {
        app: 'shop',
        adapter: 'postgres-subject-graph.v1',
        subject: { shop_id: 's1', customer_id: 'c1' },
        graph: [{ shop_id: 's1', customer_id: 'c1', reasons: ['subject'] }],
      });
      await writer.writeTable('customers', ['{"a": 1}', '{"b": [1, 2]}']);
      await writer.writeTable('orders', []);
      await writer.finish();
      const { rows, summary } = await readAll(join(dir, name));
      expect(rows).toEqual([
        { table: 'customers', text: '{"a": 1}' },
        { table: 'customers', text: '{"b": [1, 2]}' },
      ]);
      expect(summary).toMatchObject({
        rowCounts: { customers: 2, orders: 0 },
        integrity: { status: 'verified' },
      });
    }
  });
});
