import { describe, expect, it } from 'vitest';

import { planClosure } from './closure-plan.js';
import type { ClosureForeignKey } from './closure-sql.js';

const fk = (child: string, parent: string, name = `${child}_${parent}`): ClosureForeignKey => ({
  name,
  child,
  parent,
  columns: [`${parent}_id`],
  referencedColumns: ['id'],
  referencedTypes: ['integer'],
});

describe('planClosure', () => {
  it('orders children before parents, whatever the manifest order', () => {
    const plan = planClosure(
      ['regions', 'stores', 'customers', 'orders'],
      [fk('stores', 'regions'), fk('customers', 'stores'), fk('orders', 'customers')],
    );
    expect(plan.groups).toEqual([['orders'], ['customers'], ['stores'], ['regions']]);
  });

  it('puts a cycle in one group (manifest order inside), a self-reference stays alone', () => {
    const plan = planClosure(
      ['stores', 'staff', 'orders'],
      [fk('stores', 'staff'), fk('staff', 'stores'), fk('staff', 'staff', 'boss'), fk('orders', 'staff')],
    );
    expect(plan.groups).toEqual([['orders'], ['stores', 'staff']]);
    expect(plan.outgoing.get('staff')!.map((f) => f.name)).toEqual(['staff_stores', 'boss']);
  });

  it('keeps unrelated tables, and ignores keys to tables outside the manifest', () => {
    const plan = planClosure(['a', 'b'], [fk('a', 'elsewhere')]);
    expect(plan.groups.flat().sort()).toEqual(['a', 'b']);
    expect(plan.outgoing.get('a')).toHaveLength(1);
  });

  describe('with reference tables (closure: parents-and-reference)', () => {
    // customers ← rentals → inventory → films ← film_actor → actors; films ← film_category; reviews → customers
    const tables = [
      'customers',
      'rentals',
      'inventory',
      'films',
      'film_actor',
      'actors',
      'film_category',
      'reviews',
    ];
    const keys = [
      fk('rentals', 'customers'),
      fk('rentals', 'inventory'),
      fk('inventory', 'films'),
      fk('film_actor', 'actors'),
      fk('film_actor', 'films'),
      fk('film_category', 'films'),
      fk('reviews', 'customers'),
      fk('reviews', 'films'),
    ];
    const subjectTables = new Set(['customers', 'rentals', 'reviews']);

    it('a reference table follows its key into an anchor; tables of subjects and lookups never', () => {
      const plan = planClosure(tables, keys, { subjectTables });
      expect(Object.fromEntries([...plan.follows].map(([table, key]) => [table, key.name]))).toEqual({
        film_actor: 'film_actor_films',
        film_category: 'film_category_films',
      });
      // every other child of films (inventory, reviews) before its followers, the followers before films
      const position = (name: string) => plan.groups.findIndex((group) => group.includes(name));
      for (const follower of ['film_actor', 'film_category']) {
        expect(position(follower)).toBeGreaterThan(position('inventory'));
        expect(position(follower)).toBeGreaterThan(position('reviews'));
        expect(position(follower)).toBeLessThan(position('films'));
        expect(position(follower)).toBeLessThan(position('actors'));
      }
      expect(plan.groups.every((group) => group.length === 1)).toBe(true);
      expect(planClosure(tables, keys).follows.size).toBe(0);
    });

    it('refuses to follow into a foreign-key cycle', () => {
      const cyclic = [...keys, fk('films', 'inventory', 'films_best_copy')];
      expect(() => planClosure(tables, cyclic, { subjectTables })).toThrow(
        /film_actor follows films \(film_actor_films\), but they are in a foreign-key cycle \(inventory, films, film_actor, film_category\)/,
      );
    });
  });
});
