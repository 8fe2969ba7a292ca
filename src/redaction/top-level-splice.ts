/**
 * Fast path of the row redactor (issue #16): the values of a row's rule keys are replaced in the row's
 * text in place — one pass over the bytes, no parse and re-serialise of the whole row. Top-level keys take
 * every rule on their field, keys below the top level (in nested objects, at any depth, arrays included)
 * the recursive rules only, exactly as the full path (row-redactor.ts) applies them; a value that is
 * replaced is replaced whole, so keys inside it do not matter. The new values come from the same
 * `redactValue` as the full path (the value alone is parsed with lossless-json, so numbers are hashed as
 * serde_json printed them; one-rule chains skip even that, see valueShortcut), so the redacted values are
 * identical; the rest of the row keeps its bytes (jsonb spacing and key order) instead of being
 * re-serialised compactly.
 *
 * Anything else returns undefined and the caller takes the full path: a rule key given twice in one
 * object, text that does not close as one object. The input is the export's rows — jsonb text, valid JSON.
 *
 * A byte scanner, longer than most modules because the walk must stay in one hot loop.
 */
import { parse, stringify } from 'lossless-json';

import { sha256Hex12 } from './hash.js';
import { type RedactionAction, redactValue } from './redact-value.js';

/** One rule of a field's chain. */
export interface FieldRule {
  action: RedactionAction;
  prefix: string;
}

/** How the keys of one nesting level (top level, or below it) are redacted. */
interface LevelPlan {
  /** Rule chain (manifest order) per field. */
  chains: Map<string, FieldRule[]>;
  /** Per field whose chain is one rule: its output without parsing the value (see valueShortcut). */
  shortcuts: Map<string, ValueShortcut>;
}

export interface SplicePlan {
  top: LevelPlan;
  /** Keys below the top level: the recursive rules only. */
  nested: LevelPlan;
  /**
   * Top-level fields (a superset of the nested ones) indexed by the byte length of their UTF-8 text (an
   * array, not a Map: it is looked up for every key of every scanned row).
   */
  byLength: Array<Array<{ field: string; bytes: Buffer }> | undefined>;
  /**
   * Every rule is recursive (a field's chain is the same at any depth) and every field a plain name
   * (letters, digits, `_$@.-`): the scan may then start at the needles (entriesAtNeedles).
   */
  anyDepth: boolean;
}

/** The plan for a redactor's rule maps: every rule per field, and the recursive ones. */
export function splicePlan(
  chains: Map<string, FieldRule[]>,
  nestedChains: Map<string, FieldRule[]>,
): SplicePlan {
  const byLength: SplicePlan['byLength'] = [];
  for (const field of chains.keys()) {
    const bytes = Buffer.from(field, 'utf8');
    (byLength[bytes.length] ??= []).push({ field, bytes });
  }
  const anyDepth = [...chains].every(
    ([field, chain]) => /^[\w$@.-]+$/.test(field) && nestedChains.get(field)?.length === chain.length,
  );
  return { top: levelPlan(chains), nested: levelPlan(nestedChains), byLength, anyDepth };
}

function levelPlan(chains: Map<string, FieldRule[]>): LevelPlan {
  const shortcuts = new Map<string, ValueShortcut>();
  for (const [field, chain] of chains) {
    if (chain.length === 1) shortcuts.set(field, valueShortcut(chain[0]!));
  }
  return { chains, shortcuts };
}

/**
 * A one-rule chain's output computed from the value's bytes: the constant actions (`null`, `empty`,
 * `empty_object`, `empty_array`) give the same text whatever the value (null and "" aside), and `hash`
 * of a string without escapes hashes the bytes between its quotes — in jsonb text (which escapes only `"`,
 * `\` and control characters) they are exactly the string's UTF-8.
 */
type ValueShortcut = { constant: Buffer } | { hashPrefix: string };

function valueShortcut(rule: FieldRule): ValueShortcut {
  switch (rule.action) {
    case 'null':
      return { constant: Buffer.from('null') };
    case 'empty':
      return { constant: Buffer.from('""') };
    case 'empty_object':
      return { constant: Buffer.from('{}') };
    case 'empty_array':
      return { constant: Buffer.from('[]') };
    case 'hash':
      // JSON.stringify(prefix + hex) without its closing quote: hex digits need no escaping.
      return { hashPrefix: JSON.stringify(rule.prefix).slice(0, -1) };
  }
}

const quote = 0x22;
const backslash = 0x5c;

/**
 * The changes the splice makes to one row: `count` value ranges [starts[k], ends[k]) (ascending, none
 * inside another) and their new bytes. Count 0: the row stays as it is.
 */
export interface RowEdits {
  count: number;
  starts: number[];
  ends: number[];
  values: Buffer[];
}

/** Where a rule field's JSON string occurs in a row: hits[from, to), offsets into the row's buffer. */
export interface RowNeedles {
  hits: readonly number[];
  from: number;
  to: number;
  /**
   * The row may hold a `\u` or `\/` escape, which could spell a key the needles miss (then the row is
   * checked for one); false when the caller knows it holds none.
   */
  escapes: boolean;
}

/** One RowEdits for every call: each caller consumes it before the next (no per-row allocation). */
const edits: RowEdits = { count: 0, starts: [], ends: [], values: [] };

/**
 * The redacted row, the same Buffer when nothing changes, or undefined: use the full path. `needles`: the
 * offsets in `row` where a rule field's JSON string occurs (RowRedactor.needlePositions), when known.
 */
export function spliceTopLevel(
  row: Buffer,
  plan: SplicePlan,
  needles?: readonly number[],
): Buffer | undefined {
  const found = needles && { hits: needles, from: 0, to: needles.length, escapes: true };
  const changes = spliceEdits(row, 0, row.length, plan, found);
  if (!changes) return undefined;
  if (changes.count === 0) return row;
  const parts: Buffer[] = [];
  let copied = 0;
  for (let k = 0; k < changes.count; k++) {
    parts.push(row.subarray(copied, changes.starts[k]), changes.values[k]!);
    copied = changes.ends[k]!;
  }
  parts.push(row.subarray(copied));
  return Buffer.concat(parts);
}

/**
 * spliceTopLevel's changes to the row buf[start, end) (a row inside a larger buffer, offsets into it), or
 * undefined: use the full path. The returned object is reused by the next call.
 */
export function spliceEdits(
  buf: Buffer,
  start: number,
  end: number,
  plan: SplicePlan,
  needles?: RowNeedles,
): RowEdits | undefined {
  const entries =
    (needles && plan.anyDepth && entriesAtNeedles(buf, start, end, plan, needles)) ||
    scanKeys(buf, start, end, plan);
  if (!entries) return undefined;
  edits.count = 0;
  for (const entry of entries) {
    let replaced: Buffer | undefined;
    try {
      replaced = redactValueBytes(buf, entry, plan);
    } catch {
      return undefined; // not valid JSON: the full path reports it
    }
    if (replaced === undefined) continue;
    edits.starts[edits.count] = entry.valueStart;
    edits.ends[edits.count] = entry.valueEnd;
    edits.values[edits.count] = replaced;
    edits.count += 1;
  }
  return edits;
}

/** The new JSON bytes of one value, or undefined when the chain leaves it as it is (null, ""). */
function redactValueBytes(row: Buffer, entry: Entry, plan: SplicePlan): Buffer | undefined {
  const { valueStart: start, valueEnd: end } = entry;
  const first = row[start];
  const length = end - start;
  if (first === quote ? length === 2 : length === 4 && first === 0x6e /* n */ && isNull(row, start)) {
    return undefined; // "" or null (valid JSON here: the scanner closed the string / saw 4 bytes)
  }
  const level = entry.nested ? plan.nested : plan.top;
  const shortcut = level.shortcuts.get(entry.field);
  if (shortcut && first === quote && entry.plainString) {
    return 'constant' in shortcut
      ? shortcut.constant
      : Buffer.from(`${shortcut.hashPrefix}${sha256Hex12(row.subarray(start + 1, end - 1))}"`, 'utf8');
  }
  if (shortcut && 'constant' in shortcut && first !== quote && isScalarLiteral(row, start, end)) {
    return shortcut.constant;
  }
  const text = row.toString('utf8', start, end);
  let value: unknown = first === quote ? (JSON.parse(text) as string) : parse(text);
  for (const rule of level.chains.get(entry.field)!) value = redactValue(rule.action, rule.prefix, value);
  return Buffer.from(typeof value === 'string' ? JSON.stringify(value) : (stringify(value) ?? 'null'));
}

function isNull(row: Buffer, at: number): boolean {
  return row[at + 1] === 0x75 && row[at + 2] === 0x6c && row[at + 3] === 0x6c;
}

/** `true`, `false` or a JSON number: a non-string scalar whose validity a constant action must not skip. */
const scalarLiteral = /^(?:true|false|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)$/;

function isScalarLiteral(row: Buffer, start: number, end: number): boolean {
  return end - start <= 64 && scalarLiteral.test(row.toString('latin1', start, end));
}

interface Entry {
  field: string;
  /** Below the top level: the recursive rules apply. */
  nested: boolean;
  /** The object the key belongs to (numbered in text order), to catch a key given twice. */
  object: number;
  valueStart: number;
  valueEnd: number;
  /**
   * The value is one string with no escape and no control character: its bytes between the quotes are
   * the string's UTF-8, and it is valid JSON.
   */
  plainString: boolean;
}

/**
 * One pass over the row row[start, end): the entries whose key has a chain at its level, in text order,
 * none inside another's value; undefined when a rule key repeats in one object or the text does not close
 * as one object. Keys are compared as bytes (escaped keys are decoded first).
 */
function scanKeys(row: Buffer, start: number, end: number, plan: SplicePlan): Entry[] | undefined {
  const entries: Entry[] = [];
  const objects: boolean[] = []; // open containers: true = object
  const ids: number[] = []; // their numbers
  let opened = 0;
  let expectKey = false;
  // A rule entry whose value is being read: keys inside that value are not looked at (it is replaced whole).
  let pending: Entry | undefined;
  let pendingDepth = 0;
  let seenColon = false;
  let plainEnd = -1; // end of the pending value when it began with a string without escapes
  let i = skipSpace(row, start, end);
  if (i === end || row[i] !== 0x7b) return undefined;
  for (; i < end; i++) {
    const c = row[i]!;
    if (c === quote) {
      let j = i + 1;
      let escaped = false;
      // The hot loop: only the closing quote and escapes matter here (control characters only for the
      // value being replaced, checked below).
      for (;;) {
        if (j >= end) return undefined;
        const b = row[j];
        if (b === quote) break;
        if (b === backslash) {
          escaped = true;
          j += 2;
        } else j++;
      }
      if (pending && pending.valueStart === i && !escaped && !hasControl(row, i + 1, j)) plainEnd = j + 1;
      if (expectKey && pending === undefined) {
        const field = matchField(row, i, j, escaped, plan);
        const depth = objects.length;
        if (field !== undefined && (depth === 1 || plan.nested.chains.has(field))) {
          const object = ids[depth - 1]!;
          if (entries.some((entry) => entry.object === object && entry.field === field)) return undefined;
          pending = { field, nested: depth > 1, object, valueStart: -1, valueEnd: -1, plainString: false };
          pendingDepth = depth;
          seenColon = false;
        }
      }
      expectKey = false;
      i = j;
    } else if (c === 0x7b || c === 0x5b) {
      objects.push(c === 0x7b);
      ids.push(opened++);
      expectKey = c === 0x7b;
    } else if (c === 0x3a) {
      if (pending && objects.length === pendingDepth && !seenColon) {
        pending.valueStart = skipSpace(row, i + 1, end);
        seenColon = true;
      }
    } else if (c === 0x2c || c === 0x7d || c === 0x5d) {
      if (pending && objects.length === pendingDepth) {
        let valueEnd = i;
        while (valueEnd > pending.valueStart && isSpace(row[valueEnd - 1]!)) valueEnd--;
        if (pending.valueStart < 0 || valueEnd <= pending.valueStart) return undefined;
        pending.valueEnd = valueEnd;
        pending.plainString = valueEnd === plainEnd;
        entries.push(pending);
        pending = undefined;
      }
      if (c === 0x2c) {
        expectKey = objects.at(-1) === true;
      } else {
        objects.pop();
        ids.pop();
        if (objects.length === 0) return skipSpace(row, i + 1, end) === end ? entries : undefined;
      }
    }
  }
  return undefined;
}

/**
 * scanKeys' entries found from the needles alone, reading only the keys there and their values: when
 * every rule is recursive, a key's depth does not matter, and in valid JSON a field's JSON string whose
 * opening quote is not escaped is a whole string token — a key if a colon follows. Undefined (scan the
 * row) when a key could be spelled otherwise (`\u` or `\/` escapes), a field is a key twice (one object or
 * two: the scanner tells them apart), a value does not close or the row does not end with `}`. The rest
 * of the row is not read: it is jsonb text (export-sql.ts) — valid JSON.
 */
function entriesAtNeedles(
  row: Buffer,
  start: number,
  end: number,
  plan: SplicePlan,
  needles: RowNeedles,
): Entry[] | undefined {
  let last = end - 1;
  while (last > start && isSpace(row[last]!)) last--;
  if (last < start || row[last] !== 0x7d) return undefined; // not one closed object: the scanner says so
  if (needles.escapes) {
    for (let k = row.indexOf(backslash, start); k !== -1 && k < end; k = row.indexOf(backslash, k + 2)) {
      if (row[k + 1] === 0x75 /* u */ || row[k + 1] === 0x2f /* / */) return undefined;
    }
  }
  const entries: Entry[] = [];
  let after = start; // keys inside a value that is replaced whole do not matter
  for (let n = needles.from; n < needles.to; n++) {
    const at = needles.hits[n]!;
    if (at < after || isEscaped(row, start, at)) continue;
    let close = at + 1;
    while (close < end && row[close] !== quote) close++;
    if (close === end) return undefined;
    const field = matchField(row, at, close, false, plan);
    const colon = skipSpace(row, close + 1, end);
    if (field === undefined || colon === end || row[colon] !== 0x3a) continue; // a value, not a key
    if (entries.some((entry) => entry.field === field)) return undefined;
    const valueStart = skipSpace(row, colon + 1, end);
    const value = valueExtent(row, valueStart, end);
    if (!value) return undefined;
    entries.push({
      field,
      nested: false,
      object: 0,
      valueStart,
      valueEnd: value.end,
      plainString: value.plain,
    });
    after = value.end;
  }
  return entries;
}

/** The quote at `at` follows an odd run of backslashes (from `start` on): it is inside a string. */
function isEscaped(row: Buffer, start: number, at: number): boolean {
  let k = at - 1;
  while (k >= start && row[k] === backslash) k--;
  return (at - 1 - k) % 2 === 1;
}

/**
 * Where the JSON value starting at `start` ends (before `limit`), and whether it is a string with no escape
 * or control character.
 */
function valueExtent(row: Buffer, start: number, limit: number): { end: number; plain: boolean } | undefined {
  if (start >= limit) return undefined;
  const first = row[start];
  if (first === quote) {
    let plain = true;
    let j = start + 1;
    for (; j < limit; j++) {
      const c = row[j]!;
      if (c === quote) break;
      if (c === backslash) {
        plain = false;
        j++;
      } else if (c < 0x20) plain = false;
    }
    return j < limit ? { end: j + 1, plain } : undefined;
  }
  if (first === 0x7b || first === 0x5b) {
    let depth = 0;
    for (let j = start; j < limit; j++) {
      const c = row[j]!;
      if (c === quote) {
        j = stringEnd(row, j, limit);
        if (j < 0) return undefined;
      } else if (c === 0x7b || c === 0x5b) depth++;
      else if ((c === 0x7d || c === 0x5d) && --depth === 0) return { end: j + 1, plain: false };
    }
    return undefined;
  }
  let end = start;
  while (end < limit && !isSpace(row[end]!) && row[end] !== 0x2c && row[end] !== 0x7d && row[end] !== 0x5d)
    end++;
  return end > start ? { end, plain: false } : undefined;
}

/** The closing quote (before `limit`) of the string opening at `open`, or -1. */
function stringEnd(row: Buffer, open: number, limit: number): number {
  for (let j = open + 1; j < limit; j++) {
    const c = row[j];
    if (c === quote) return j;
    if (c === backslash) j++;
  }
  return -1;
}

/** The rule field the key string at [open, close] names, if any. */
function matchField(
  row: Buffer,
  open: number,
  close: number,
  escaped: boolean,
  plan: SplicePlan,
): string | undefined {
  if (escaped) {
    const key = JSON.parse(row.toString('utf8', open, close + 1)) as string;
    return plan.top.chains.has(key) ? key : undefined;
  }
  const candidates = plan.byLength[close - open - 1];
  if (!candidates) return undefined;
  outer: for (const candidate of candidates) {
    const bytes = candidate.bytes;
    for (let k = 0; k < bytes.length; k++) if (row[open + 1 + k] !== bytes[k]) continue outer;
    return candidate.field;
  }
  return undefined;
}

function hasControl(row: Buffer, from: number, to: number): boolean {
  for (let k = from; k < to; k++) if (row[k]! < 0x20) return true;
  return false;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function skipSpace(row: Buffer, i: number, end: number): number {
  let at = i;
  while (at < end && isSpace(row[at]!)) at++;
  return at;
}
