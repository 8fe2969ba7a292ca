import { describe, expect, it } from 'vitest';

import { planClosure } from '../graph/closure-plan.js';
import type { ClosureForeignKey } from '../graph/closure-sql.js';
import { directTargets } from './closure-direct.js';

const fk = (child: string, parent: string, referencedColumns = ['id']): ClosureForeignKey => ({
  name: `${child}_${parent}_${referencedColumns.join('_')}`,
  child,
  parent,
  columns: referencedColumns.map((col) => `${parent}_${col}`),
  referencedColumns,
  referencedTypes: referencedColumns.map(() => 'integer'),
});

const direct = (tables: string[], fks: ClosureForeignKey[], subjectTables?: string[]) =>
  [
    ...directTargets(
      planClosure(tables, fks, subjectTables ? { subjectTables: new Set(subjectTables) } : undefined),
    ).keys(),
  ].sort();

describe('directTargets: parents one query completes', () => {
  it('a parent whose every child exports only its own rows, through the same columns', () => {
    const targets = directTargets(
      planClosure(['orders', 'returns', 'stores'], [fk('orders', 'stores'), fk('returns', 'stores')]),
    );
    expect([...targets.keys()]).toEqual(['stores']);
    expect(targets.get('stores')!.fks.map((f) => f.child)).toEqual(['orders', 'returns']);
    expect(targets.get('stores')!.columns).toEqual(['id']);
  });

  it('a chain: the first parent only (the grandparent also wants the keys of rows closure adds)', () => {
    expect(
      direct(['orders', 'stores', 'regions'], [fk('orders', 'stores'), fk('stores', 'regions')]),
    ).toEqual(['stores']);
  });

  it('through: a child completed wholly by plain children is joined by its parent, one level only', () => {
    const chain = [fk('orders', 'stores'), fk('stores', 'regions')];
    const plan = planClosure(['orders', 'stores', 'regions'], chain);
    const targets = directTargets(plan, new Set(), { through: true });
    expect([...targets.keys()].sort()).toEqual(['regions', 'stores']);
    expect([...targets.get('regions')!.through!.keys()]).toEqual(['stores']);
    expect(
      targets
        .get('regions')!
        .through!.get('stores')!
        .fks.map((f) => f.child),
    ).toEqual(['orders']);
    expect(targets.get('stores')!.through).toBeUndefined();
    // countries would join regions, whose child stores is not plain: its keys are passed
    const deep = planClosure(
      ['orders', 'stores', 'regions', 'countries'],
      [...chain, fk('regions', 'countries')],
    );
    expect([...directTargets(deep, new Set(), { through: true }).keys()].sort()).toEqual([
      'regions',
      'stores',
    ]);
    // a child or grandchild whose query is not repeatable, a child referencing itself: not joined
    expect(directTargets(plan, new Set(['stores']), { through: true }).has('regions')).toBe(false);
    expect(directTargets(plan, new Set(['orders']), { through: true }).has('regions')).toBe(false);
    const selfRef = planClosure(['orders', 'stores', 'regions'], [...chain, fk('stores', 'stores')]);
    expect(directTargets(selfRef, new Set(), { through: true }).has('regions')).toBe(false);
  });

  it('never a self-reference, a cycle, or a parent referenced through two unique keys', () => {
    expect(direct(['staff', 'orders'], [fk('staff', 'staff'), fk('orders', 'staff')])).toEqual([]);
    expect(direct(['a', 'b', 'c'], [fk('a', 'b'), fk('b', 'a'), fk('c', 'a')])).toEqual([]);
    expect(direct(['orders', 'parts'], [fk('orders', 'parts'), fk('orders', 'parts', ['code'])])).toEqual([]);
  });

  it('never a parent reference tables follow, nor one a reference table references', () => {
    // customers ← rentals → films ← film_actor → actors. With parents only, film_actor is a plain table;
    // as a reference table it follows films, and actors are its parents.
    const tables = ['customers', 'rentals', 'films', 'film_actor', 'actors'];
    const fks = [
      fk('rentals', 'customers'),
      fk('rentals', 'films'),
      fk('film_actor', 'films'),
      fk('film_actor', 'actors'),
    ];
    expect(direct(tables, fks)).toEqual(['actors', 'customers', 'films']);
    expect(direct(tables, fks, ['customers', 'rentals'])).toEqual(['customers']);
  });

  it('never a parent with a child whose query is not repeatable (random(), a limit…)', () => {
    const plan = planClosure(
      ['orders', 'returns', 'stores', 'regions'],
      [fk('orders', 'stores'), fk('returns', 'stores'), fk('returns', 'regions')],
    );
    expect([...directTargets(plan).keys()].sort()).toEqual(['regions', 'stores']);
    expect([...directTargets(plan, new Set(['returns'])).keys()]).toEqual([]);
    expect([...directTargets(plan, new Set(['orders'])).keys()]).toEqual(['regions']);
  });

  it('never a parent whose own query is not repeatable (its rows would be left out by running it again)', () => {
    const plan = planClosure(['orders', 'stores'], [fk('orders', 'stores')]);
    expect([...directTargets(plan).keys()]).toEqual(['stores']);
    expect([...directTargets(plan, new Set(['stores'])).keys()]).toEqual([]);
    expect([...directTargets(plan, new Set(['stores']), { partial: true }).keys()]).toEqual([]);
  });

  it('partial: the plain children joined, the others passed; never in a cycle or a self-reference', () => {
    // users ← logs (plain), tickets ← events (plain); users ← tickets (closure adds to tickets).
    const tables = ['orgs', 'users', 'tickets', 'events', 'logs'];
    const fks = [fk('users', 'orgs'), fk('tickets', 'users'), fk('events', 'tickets'), fk('logs', 'users')];
    const plan = planClosure(tables, fks);
    expect([...directTargets(plan).keys()]).toEqual(['tickets']);
    const partial = directTargets(plan, new Set(), { partial: true });
    expect([...partial.keys()].sort()).toEqual(['tickets', 'users']);
    expect(partial.get('users')!.fks.map((f) => f.child)).toEqual(['logs']);
    // A child whose query is not repeatable is not joined: its keys are passed.
    expect(directTargets(plan, new Set(['logs']), { partial: true }).has('users')).toBe(false);
    expect(directTargets(plan, new Set(['events']), { partial: true }).has('tickets')).toBe(false);
    const cyclic = planClosure(['staff', 'orders'], [fk('staff', 'staff'), fk('orders', 'staff')]);
    expect([...directTargets(cyclic, new Set(), { partial: true }).keys()]).toEqual([]);
    const twoKeys = planClosure(['a', 'b', 'p'], [fk('a', 'p'), fk('b', 'p', ['code']), fk('p', 'p', ['x'])]);
    expect([...directTargets(twoKeys, new Set(), { partial: true }).keys()]).toEqual([]);
  });
});
