import { createHash, type Hash } from 'node:crypto';

import type { ColumnDescription } from './backend-decoder.js';
import { binaryToText } from './binary-values.js';

/** Rows kept per recorded result by default; beyond it only the count and the digest are kept. */
export const defaultMaxRecordedRows = 1_000;

/**
 * Accumulates one result: the first `maxRows` rows as text (binary columns decoded by type), the row
 * count and, once the result outgrows the cap, a SHA-256 over every row in order (each row's JSON text
 * and a newline), so a capped result can still be compared. Memory per result is bounded by
 * `maxRows`, whatever the server sends; results under the cap cost no hashing at all.
 */
export class ResultSet {
  readonly rows: (string | null)[][] = [];
  rowCount = 0;
  tag: string | null = null;
  /** Columns whose binary values had no decoder: kept as \x hex. */
  readonly undecoded = new Set<string>();
  #hash: Hash | undefined;

  constructor(
    readonly columns: ColumnDescription[],
    private readonly maxRows: number,
    private readonly decodeText: (bytes: Buffer) => string,
    private readonly timeZone: string | undefined,
    /** Redaction of recorded cells, applied before the digest so replay can redact and compare. */
    private readonly redact?: (columns: string[], rows: (string | null)[][]) => (string | null)[][],
  ) {}

  add(values: (Buffer | null)[]): void {
    let row = values.map((value, index) => this.#text(value, index));
    if (this.redact)
      row = this.redact(
        this.columns.map((column) => column.name),
        [row],
      )[0]!;
    this.rowCount += 1;
    if (this.rows.length < this.maxRows) {
      this.rows.push(row);
      return;
    }
    if (!this.#hash) {
      this.#hash = createHash('sha256');
      for (const kept of this.rows) this.#hash.update(`${JSON.stringify(kept)}\n`);
    }
    this.#hash.update(`${JSON.stringify(row)}\n`);
  }

  get truncated(): boolean {
    return this.rowCount > this.rows.length;
  }

  /** Set once truncated: the digest of every row, as `rowsDigest` computes it. */
  get digest(): string | undefined {
    return this.#hash ? `sha256:${this.#hash.copy().digest('hex')}` : undefined;
  }

  #text(value: Buffer | null, index: number): string | null {
    if (value === null) return null;
    const column = this.columns[index];
    if (!column || column.format === 0) return this.decodeText(value);
    const text = binaryToText(column.typeOid, value, this.decodeText, this.timeZone);
    if (text !== undefined) return text;
    this.undecoded.add(column.name);
    return `\\x${value.toString('hex')}`;
  }
}

/** Digest of rows in order (replay computes it over its own rows to compare a capped recording). */
export class RowsDigest {
  readonly #hash = createHash('sha256');
  add(row: (string | null)[]): void {
    this.#hash.update(`${JSON.stringify(row)}\n`);
  }
  get digest(): string {
    return `sha256:${this.#hash.digest('hex')}`;
  }
}

/** Node decoders for Postgres client encodings (the common ones); undefined means UTF-8. */
export function textDecoderFor(encoding: string): (bytes: Buffer) => string {
  const name = encoding.toUpperCase().replace(/[-_]/g, '');
  const labels: Record<string, string> = {
    LATIN1: 'latin1',
    ISO88591: 'latin1',
    WIN1252: 'windows-1252',
    LATIN2: 'iso-8859-2',
    LATIN9: 'iso-8859-15',
    WIN1250: 'windows-1250',
    WIN1251: 'windows-1251',
    KOI8R: 'koi8-r',
    EUCJP: 'euc-jp',
    SJIS: 'shift_jis',
    GBK: 'gbk',
    BIG5: 'big5',
    EUCKR: 'euc-kr',
  };
  const label = labels[name];
  if (!label) return (bytes) => bytes.toString('utf8');
  if (label === 'latin1') return (bytes) => bytes.toString('latin1');
  const decoder = new TextDecoder(label);
  return (bytes) => decoder.decode(bytes);
}
