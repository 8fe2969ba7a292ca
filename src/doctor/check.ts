/** One doctor finding: a line `[status] name: detail` and an entry of the `--json` result. */
export type CheckStatus = 'pass' | 'warn' | 'fail';

export interface DoctorCheck {
  /** Stable, unique within one result (`db.table.orders`, `fk.order.orders_customer_fkey`). */
  id: string;
  status: CheckStatus;
  /** Short human label, e.g. `table orders`. */
  name: string;
  /** One line: why it passed, what is wrong, or what to do. */
  detail: string;
}

export interface DoctorSummary {
  passed: number;
  warnings: number;
  failed: number;
}

/** Builds a check; the three helpers below keep call sites one line long. */
export function check(status: CheckStatus, id: string, name: string, detail: string): DoctorCheck {
  return { id, status, name, detail };
}

export const pass = (id: string, name: string, detail: string): DoctorCheck =>
  check('pass', id, name, detail);
export const warn = (id: string, name: string, detail: string): DoctorCheck =>
  check('warn', id, name, detail);
export const fail = (id: string, name: string, detail: string): DoctorCheck =>
  check('fail', id, name, detail);

/** Counts checks by status. */
export function summarize(checks: readonly DoctorCheck[]): DoctorSummary {
  return {
    passed: checks.filter((c) => c.status === 'pass').length,
    warnings: checks.filter((c) => c.status === 'warn').length,
    failed: checks.filter((c) => c.status === 'fail').length,
  };
}

/**
 * Makes ids unique by suffixing `#2`, `#3`… to repeats, so `--json` consumers can key on them even when
 * one check reports several problems (two misspelt columns in one snippet).
 */
export function uniqueIds(checks: readonly DoctorCheck[]): DoctorCheck[] {
  const seen = new Map<string, number>();
  return checks.map((c) => {
    const count = (seen.get(c.id) ?? 0) + 1;
    seen.set(c.id, count);
    return count === 1 ? c : { ...c, id: `${c.id}#${count}` };
  });
}
