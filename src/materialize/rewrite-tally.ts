import { rewriteSubjectInText, type SubjectRewrite } from '../capsule/rewrite-subject.js';
import { UsageError } from '../errors.js';

/**
 * Rewrites capsule rows for a subject rewrite and counts the values rewritten, per table and per
 * subject key, so a rewrite that moves nothing (a key whose values never appear in the rows as a string
 * or a number) is an error instead of a silent no-op.
 */
export class RewriteTally {
  readonly perTable: Record<string, number> = {};
  private readonly perKey: Record<string, number> = {};
  private rows = 0;

  constructor(private readonly rewrite: SubjectRewrite) {}

  get active(): boolean {
    return this.rewrite.changes.length > 0;
  }

  /** The row's text after the rewrite (unchanged, unparsed, when no old value occurs in it). */
  row(table: string, text: string): string {
    if (!this.active) return text;
    this.rows++;
    const counts: Record<string, number> = {};
    const rewritten = rewriteSubjectInText(text, this.rewrite, counts);
    let total = 0;
    for (const [key, n] of Object.entries(counts)) {
      this.perKey[key] = (this.perKey[key] ?? 0) + n;
      total += n;
    }
    this.perTable[table] = (this.perTable[table] ?? 0) + total;
    return rewritten;
  }

  /** Throws (exit 2) when a rewritten key matched no value in a capsule that has rows. */
  assertMoved(): void {
    if (!this.active || this.rows === 0) return;
    const unmoved = this.rewrite.changes.filter((change) => (this.perKey[change.key] ?? 0) === 0);
    if (unmoved.length === 0) return;
    throw new UsageError(
      `subject rewrite changed no value of ${unmoved.map((change) => `${change.key}=${change.from}`).join(', ')} in the capsule's rows`,
      'check the subject key names and the capsule (inspect it): no field named after the key holds that value',
    );
  }
}
