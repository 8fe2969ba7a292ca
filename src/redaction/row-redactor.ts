import { parse, stringify } from 'lossless-json';

import type { ParsedRedactionRule } from '../manifest/index.js';
import { redactValue } from './redact-value.js';
import {
  type FieldRule,
  type RowEdits,
  spliceEdits,
  splicePlan,
  spliceTopLevel,
} from './top-level-splice.js';

/** Redacts the rows of one table. Built once per table; `redact` runs only on rows `mightApply` flags. */
export interface RowRedactor {
  /**
   * Cheap pre-check on a row's JSON text: false means no rule can touch the row, so it can be written
   * as-is without parsing. (True may be a false positive, e.g. a string value equal to a field name.)
   */
  mightApply(rowText: string): boolean;
  /** Same check on raw UTF-8 bytes (a slice of a COPY chunk), without decoding them. */
  mightApplyBytes(rowBytes: Uint8Array): boolean;
  /**
   * The same check for every row of a chunk at once: the offsets (ascending) in `bytes` at or after
   * `from` where a needle of the check starts. A row holding none of them is one `mightApplyBytes` rejects.
   */
  needlePositions(bytes: Buffer, from: number): number[];
  /**
   * needlePositions, and whether the chunk may hold a `\u` or `\/` escape (false: it holds neither, so
   * no key in it is spelled with one).
   */
  chunkNeedles(bytes: Buffer, from: number): { positions: number[]; escapes: boolean };
  /**
   * The in-place splice of the row bytes[start, end) as edits (top-level-splice.ts; reused by the next
   * call), its needles being positions[from, to) of chunkNeedles(bytes, …) (`escapes` as it said), so a
   * caller can copy the row with its new values without a Buffer per row; undefined: use redactBytes.
   */
  rowEdits(
    bytes: Buffer,
    start: number,
    end: number,
    needles: { hits: readonly number[]; from: number; to: number; escapes: boolean },
  ): RowEdits | undefined;
  /** Returns the row with every applicable rule applied. Mutates and returns `row` (a parsed copy). */
  redact(row: unknown): unknown;
  /**
   * Redacts one row given as JSON bytes: in place when rule keys occur only at the top level
   * (top-level-splice.ts), else parsed and re-serialised (redactRowText). Returns `row` itself when
   * nothing changed on the fast path. `needles`: the row's needlePositions, when the caller has them.
   */
  redactBytes(row: Buffer, needles?: readonly number[]): Buffer;
}

/**
 * The rules of `rules` that apply to `table` (rule without `table`, or naming it), compiled into a
 * redactor; undefined when none applies, so callers skip the per-row check entirely.
 *
 * Semantics (SPEC §3): a rule redacts its `fields` as top-level row keys, and — when `recursive` (the
 * default) — also as keys at any depth inside nested objects and arrays. Several rules on one field apply
 * in manifest order. Every action leaves null and "" as they are (as the original tool did).
 */
export function createRowRedactor(
  rules: readonly ParsedRedactionRule[],
  table: string,
): RowRedactor | undefined {
  const applicable = rules.filter((rule) => rule.table === undefined || rule.table === table);
  if (applicable.length === 0) return undefined;
  const topLevel = new Map<string, FieldRule[]>();
  const nested = new Map<string, FieldRule[]>();
  for (const rule of applicable) {
    for (const field of rule.fields) {
      const entry = { action: rule.action, prefix: rule.prefix };
      push(topLevel, field, entry);
      if (rule.recursive) push(nested, field, entry);
    }
  }
  // A field appears in JSON text as its JSON string: that is the needle of the pre-check. JSON can also
  // spell any character as `\uXXXX` and `/` as `\/` (a `json` column keeps its text as written): a row
  // holding either escape goes to the redactor too, whose scans decode keys.
  const needles = [...topLevel.keys()].map((field) => JSON.stringify(field)).concat(['\\u', '\\/']);
  // The byte check runs once per COPY chunk of every table a rule applies to: one regular expression over
  // the bytes read as latin1 (each byte one character: the needles' UTF-8 bytes match as such) scans the
  // chunk once, where one Buffer.includes per needle scanned it once per rule field.
  const needleBytes = needles.map((needle) => Buffer.from(needle, 'utf8'));
  const needlePattern = latin1Pattern(needleBytes);
  // The pattern without the escape needles, for a chunk that holds neither escape (the usual case: jsonb
  // text escapes only `"`, `\` and control characters): it matches exactly where the full one would, at
  // about half the cost — the full pattern has to stop at every backslash as well as at every quote.
  const escapeNeedles = needleBytes.slice(-2);
  const fieldPattern = latin1Pattern(needleBytes.slice(0, -2));
  const plan = splicePlan(topLevel, nested);
  // REPLAY_ENV_REDACTION_SPLICE=0 keeps every row on the full path (to measure one against the other).
  const splice = process.env.REPLAY_ENV_REDACTION_SPLICE !== '0';
  const redactor: RowRedactor = {
    mightApply: (rowText) => needles.some((needle) => rowText.includes(needle)),
    mightApplyBytes: (rowBytes) => {
      const buffer = Buffer.isBuffer(rowBytes)
        ? rowBytes
        : Buffer.from(rowBytes.buffer, rowBytes.byteOffset, rowBytes.byteLength);
      // Past 1 MiB (a long row joined from its chunks) no text copy: one search per needle.
      if (buffer.length > 1 << 20) return needleBytes.some((needle) => buffer.includes(needle));
      needlePattern.lastIndex = 0;
      return needlePattern.test(buffer.toString('latin1'));
    },
    needlePositions: (bytes, from) => redactor.chunkNeedles(bytes, from).positions,
    chunkNeedles: (bytes, from) => {
      const positions: number[] = [];
      if (topLevel.size === 0) return { positions, escapes: false }; // a rule with no fields changes nothing
      if (bytes.length - from > 1 << 20) {
        for (const needle of needleBytes)
          for (let at = bytes.indexOf(needle, from); at !== -1; at = bytes.indexOf(needle, at + 1))
            positions.push(at);
        return { positions: positions.sort((a, b) => a - b), escapes: true };
      }
      // One pass of the pattern over the chunk (measured faster than one Buffer.indexOf pass per needle);
      // two Buffer.indexOf passes first tell whether the escape needles can occur.
      const escapes = escapeNeedles.some((needle) => bytes.includes(needle, from));
      const pattern = escapes ? needlePattern : fieldPattern;
      const text = bytes.toString('latin1', from);
      pattern.lastIndex = 0;
      for (let match = pattern.exec(text); match; match = pattern.exec(text))
        positions.push(from + match.index);
      return { positions, escapes };
    },
    // A row that may hold an escape goes through redactBytes, which checks the row for one.
    rowEdits: (bytes, start, end, needles) =>
      splice && !needles.escapes ? spliceEdits(bytes, start, end, plan, needles) : undefined,
    redact: (row) => {
      if (isObject(row)) redactObject(row, topLevel, nested);
      return row;
    },
    redactBytes: (row, needles) => {
      // The splice scan is exact (it finds every rule key), so it needs no byte pre-check first.
      const fast = splice
        ? spliceTopLevel(row, plan, needles ?? (plan.anyDepth ? redactor.needlePositions(row, 0) : undefined))
        : undefined;
      if (fast) return fast;
      if (!redactor.mightApplyBytes(row)) return row;
      // The full path (as redactRowText, which imports this module's type): parse, redact, re-serialise.
      const original = row.toString('utf8');
      const redacted = stringify(redactor.redact(parse(original))) ?? 'null';
      return redacted === original ? row : Buffer.from(redacted, 'utf8');
    },
  };
  return redactor;
}

/** One regular expression matching any of `needles`, over bytes read as latin1 (one character a byte). */
function latin1Pattern(needles: readonly Buffer[]): RegExp {
  return new RegExp(
    needles.map((needle) => needle.toString('latin1').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'),
    'g',
  );
}

function redactObject(
  object: Record<string, unknown>,
  rules: Map<string, FieldRule[]>,
  nested: Map<string, FieldRule[]>,
): void {
  for (const key of Object.keys(object)) {
    const fieldRules = rules.get(key);
    let value = object[key];
    if (fieldRules) {
      for (const rule of fieldRules) value = redactValue(rule.action, rule.prefix, value);
      object[key] = value;
    }
    if (nested.size > 0) redactNested(value, nested);
  }
}

function redactNested(value: unknown, nested: Map<string, FieldRule[]>): void {
  if (Array.isArray(value)) {
    for (const item of value) redactNested(item, nested);
  } else if (isObject(value)) {
    redactObject(value, nested, nested);
  }
}

/** A plain JSON object (lossless-json numbers are class instances and are not descended into). */
function isObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
