import { describe, expect, it } from 'vitest';

import { planClosure } from '../graph/closure-plan.js';
import type { ClosureForeignKey } from '../graph/closure-sql.js';
import { directTargets } from './closure-direct.js';
import { closurePrefix } from './closure-prefix.js';

const fk = (child: string, parent: string): ClosureForeignKey => ({
  name: `${child}_${parent}`,
  child,
  parent,
  columns: [`${parent}_id`],
  referencedColumns: ['id'],
  referencedTypes: ['integer'],
});

const prefix = (order: string[], fks: ClosureForeignKey[], partial = true, subjects?: string[]) => {
  const plan = planClosure(order, fks, subjects ? { subjectTables: new Set(subjects) } : undefined);
  return closurePrefix(plan, directTargets(plan, new Set(), { partial }), order);
};

describe('closurePrefix: the capsule tables completed before later ones are read', () => {
  const order = ['orgs', 'users', 'tickets', 'events', 'logs'];
  const fks = [fk('users', 'orgs'), fk('tickets', 'users'), fk('events', 'tickets'), fk('logs', 'users')];

  it('every table a passed key comes from or goes to, and those between them in load order', () => {
    expect(prefix(order, fks)).toEqual(['orgs', 'users', 'tickets']);
    // A table between them that neither passes nor takes keys is in the prefix too.
    expect(prefix(['orgs', 'notes', 'users', 'tickets', 'events', 'logs'], fks)).toEqual([
      'orgs',
      'notes',
      'users',
      'tickets',
    ]);
  });

  it('none when every key is passed up to the last table, nothing is passed, or reference tables follow', () => {
    // Without partial queries, logs passes users' keys and is last in load order.
    expect(prefix(order, fks, false)).toBeUndefined();
    expect(prefix(['stores', 'orders'], [fk('orders', 'stores')])).toBeUndefined();
    expect(prefix([...order, 'tags'], [...fks, fk('tags', 'logs')], true, ['users'])).toBeUndefined();
  });
});
