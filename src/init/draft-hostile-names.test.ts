import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

import { draftManifest } from './draft.js';
import { renderManifestYaml } from './render-yaml.js';
import type { InitCatalog, InitTable } from './schema-catalog.js';

const table = (name: string, columns: string[]): InitTable => ({
  name,
  columns: columns.map((column) => ({ name: column, type: 'integer' })),
  primaryKey: ['id'],
  partitioned: false,
});

// Catalog names init does not choose: a reserved word, a name with a quote, a name with a newline.
const catalog: InitCatalog = {
  database: 'shop',
  tables: [
    table('customers', ['id']),
    table('order', ['id', 'customer_id']),
    table('lines', ['id', 'order_id']),
    table('messages', ['id', "a'b", 'to']),
    table('evil\nappId: pwned', ['id']),
  ],
  foreignKeys: [
    {
      name: 'o',
      child: 'order',
      parent: 'customers',
      columns: ['customer_id'],
      referencedColumns: ['id'],
      deferrable: false,
    },
    {
      name: 'l',
      child: 'lines',
      parent: 'order',
      columns: ['order_id'],
      referencedColumns: ['id'],
      deferrable: false,
    },
    {
      name: 'm1',
      child: 'messages',
      parent: 'customers',
      columns: ["a'b"],
      referencedColumns: ['id'],
      deferrable: false,
    },
    {
      name: 'm2',
      child: 'messages',
      parent: 'customers',
      columns: ['to'],
      referencedColumns: ['id'],
      deferrable: false,
    },
  ],
};

describe('init draft with hostile catalog names', () => {
  const draft = draftManifest(catalog, { subjectTable: 'customers', schema: 'public' });

  it('quotes a reserved-word parent table inside the nested where', () => {
    const lines = draft.tables.find((t) => t.name === 'lines')!;
    expect(lines.where).toContain('from "order" p1');
    expect(lines.deletePredicate).toContain('from "order" p1');
  });

  it('quotes the graph edge table and its reason literal', () => {
    const edge = draft.graphEdges.find((e) => e.reason.includes("'"))!;
    expect(edge.sql).toContain(`'messages_a''b' as reason`);
    expect(edge.sql).toContain('from "messages" x');
  });

  it('a newline in an unrelated table name stays inside its comment', () => {
    const yaml = renderManifestYaml(draft);
    const manifest = parse(yaml) as Record<string, unknown>;
    expect(manifest.appId).toBe('shop');
    expect(yaml).toContain('evil\\nappId: pwned');
  });
});
