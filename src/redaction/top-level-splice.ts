/**
 * Fast path of the row redactor (issue #16): when a row's rule keys occur ONLY as top-level keys, their
 * values are replaced in the row's text in place — one pass over the bytes, no parse and re-serialise of
 * the whole row. The new values come from the same `redactValue` as the full path (the value alone is
 * parsed with lossless-json, so numbers are hashed as serde_json printed them), so the redacted values are
 * identical; the rest of the row keeps its bytes (jsonb spacing) instead of being re-serialised compactly.
 *
 * Anything else returns undefined and the caller takes the full path: a recursive rule's key below the
 * top level (every key is tokenised and compared, escaped ones decoded first), a rule key given twice,
 * text that does not close as one object. The input is the export's rows — jsonb text, valid JSON.
 *
 * A byte scanner, longer than most modules because the top-level walk must stay in one hot loop.
 */
import { parse, stringify } from 'lossless-json';

import { type RedactionAction, redactValue } from './redact-value.js';

/** One rule of a field's chain. */
export interface FieldRule {
  action: RedactionAction;
  prefix: string;
}

export interface SplicePlan {
  /** Rule chain (manifest order) per top-level field. */
  chains: Map<string, FieldRule[]>;
  /** Fields a recursive rule names. */
  recursive: Set<string>;
  /** Fields by the byte length of their UTF-8 text, for comparing unescaped keys as bytes. */
  byLength: Map<number, Array<{ field: string; bytes: Buffer }>>;
}

/** The plan for a redactor's rule maps. */
export function splicePlan(chains: Map<string, FieldRule[]>, recursive: Iterable<string>): SplicePlan {
  const byLength = new Map<number, Array<{ field: string; bytes: Buffer }>>();
  for (const field of chains.keys()) {
    const bytes = Buffer.from(field, 'utf8');
    byLength.set(bytes.length, [...(byLength.get(bytes.length) ?? []), { field, bytes }]);
  }
  return { chains, recursive: new Set(recursive), byLength };
}

const quote = 0x22;
const backslash = 0x5c;

/** The redacted row, the same Buffer when nothing changes, or undefined: use the full path. */
export function spliceTopLevel(row: Buffer, plan: SplicePlan): Buffer | undefined {
  const entries = scanKeys(row, plan);
  if (!entries) return undefined;
  const parts: Buffer[] = [];
  let copied = 0;
  for (const entry of entries) {
    let replaced: string | undefined;
    try {
      replaced = redactValueText(row, entry.valueStart, entry.valueEnd, plan.chains.get(entry.field)!);
    } catch {
      return undefined; // not valid JSON: the full path reports it
    }
    if (replaced === undefined) continue;
    parts.push(row.subarray(copied, entry.valueStart), Buffer.from(replaced, 'utf8'));
    copied = entry.valueEnd;
  }
  if (parts.length === 0) return row;
  parts.push(row.subarray(copied));
  return Buffer.concat(parts);
}

/** The new JSON text of one value, or undefined when the chain leaves it as it is (null, ""). */
function redactValueText(row: Buffer, start: number, end: number, chain: FieldRule[]): string | undefined {
  const text = row.toString('utf8', start, end);
  if (text === 'null' || text === '""') return undefined;
  let value: unknown = row[start] === quote ? (JSON.parse(text) as string) : parse(text);
  for (const rule of chain) value = redactValue(rule.action, rule.prefix, value);
  return typeof value === 'string' ? JSON.stringify(value) : (stringify(value) ?? 'null');
}

interface Entry {
  field: string;
  valueStart: number;
  valueEnd: number;
}

/**
 * One pass over the row: the top-level entries whose key has a chain, in text order; undefined when a
 * recursive rule's key occurs below the top level, a rule key repeats, or the text does not close as one
 * object. Keys are compared as bytes (escaped keys are decoded first).
 */
function scanKeys(row: Buffer, plan: SplicePlan): Entry[] | undefined {
  const entries: Entry[] = [];
  const objects: boolean[] = []; // open containers: true = object
  let expectKey = false;
  let pending: Entry | undefined; // a top-level rule entry whose value is being read
  let seenColon = false;
  const n = row.length;
  let i = skipSpace(row, 0);
  if (row[i] !== 0x7b) return undefined;
  for (; i < n; i++) {
    const c = row[i]!;
    if (c === quote) {
      let j = i + 1;
      let escaped = false;
      for (;;) {
        const b = row[j];
        if (b === undefined) return undefined;
        if (b === backslash) {
          escaped = true;
          j += 2;
        } else if (b === quote) break;
        else j++;
      }
      if (expectKey) {
        const field = matchField(row, i, j, escaped, plan);
        if (field !== undefined) {
          if (objects.length === 1) {
            if (entries.some((entry) => entry.field === field)) return undefined;
            pending = { field, valueStart: -1, valueEnd: -1 };
            seenColon = false;
          } else if (plan.recursive.has(field)) {
            return undefined;
          }
        }
        expectKey = false;
      }
      i = j;
    } else if (c === 0x7b || c === 0x5b) {
      objects.push(c === 0x7b);
      expectKey = c === 0x7b;
    } else if (c === 0x3a) {
      if (pending && objects.length === 1 && !seenColon) {
        pending.valueStart = skipSpace(row, i + 1);
        seenColon = true;
      }
    } else if (c === 0x2c || c === 0x7d || c === 0x5d) {
      if (objects.length === 1 && pending) {
        let end = i;
        while (end > pending.valueStart && isSpace(row[end - 1]!)) end--;
        if (pending.valueStart < 0 || end <= pending.valueStart) return undefined;
        pending.valueEnd = end;
        entries.push(pending);
        pending = undefined;
      }
      if (c === 0x2c) {
        expectKey = objects.at(-1) === true;
      } else {
        objects.pop();
        if (objects.length === 0) return skipSpace(row, i + 1) === n ? entries : undefined;
      }
    }
  }
  return undefined;
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
    return plan.chains.has(key) ? key : undefined;
  }
  const candidates = plan.byLength.get(close - open - 1);
  if (!candidates) return undefined;
  outer: for (const candidate of candidates) {
    const bytes = candidate.bytes;
    for (let k = 0; k < bytes.length; k++) if (row[open + 1 + k] !== bytes[k]) continue outer;
    return candidate.field;
  }
  return undefined;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function skipSpace(row: Buffer, i: number): number {
  let at = i;
  while (at < row.length && isSpace(row[at]!)) at++;
  return at;
}
