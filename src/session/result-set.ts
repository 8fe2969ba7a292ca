import { createHash } from 'node:crypto';

import type { ColumnDescription } from './backend-decoder.js';
import { binaryToText } from './binary-values.js';

/** Rows kept per recorded result by default; beyond it only the count and the digest are kept. */
export const defaultMaxRecordedRows = 1_000;

/**
 * Accumulates one result: the first `maxRows` rows as text (binary columns decoded by type), the row
 * count, and an order-independent digest of every row, so a capped result can still be compared.
 * Memory per result is bounded by `maxRows`, whatever the server sends.
 */
export class ResultSet {
  readonly rows: (string | null)[][] = [];
  rowCount = 0;
  tag: string | null = null;
  /** Columns whose binary values had no decoder: kept as \x hex. */
  readonly undecoded = new Set<string>();
  readonly #sum = [0n, 0n, 0n, 0n];

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
    addRowDigest(this.#sum, row);
    if (this.rows.length < this.maxRows) this.rows.push(row);
  }

  get truncated(): boolean {
    return this.rowCount > this.rows.length;
  }

  get digest(): string {
    return digestHex(this.#sum);
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

const mask = (1n << 64n) - 1n;

/** Adds one row's SHA-256 to a four-lane sum (mod 2^64 each): the same for any order of the rows. */
export function addRowDigest(sum: bigint[], row: (string | null)[]): void {
  const hash = createHash('sha256').update(JSON.stringify(row)).digest();
  for (let lane = 0; lane < 4; lane += 1) sum[lane] = (sum[lane]! + hash.readBigUInt64BE(lane * 8)) & mask;
}

export function digestHex(sum: bigint[]): string {
  return `sha256-sum:${sum.map((lane) => lane.toString(16).padStart(16, '0')).join('')}`;
}

/** The digest of a whole list of rows, as replay computes it for a capped recording. */
export function rowsDigest(rows: (string | null)[][]): string {
  const sum = [0n, 0n, 0n, 0n];
  for (const row of rows) addRowDigest(sum, row);
  return digestHex(sum);
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
