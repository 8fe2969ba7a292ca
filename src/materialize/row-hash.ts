/**
 * PostgreSQL's `hashtextextended(text, 0)` (its `hash_bytes_extended`, Bob Jenkins' lookup3 over the
 * text's UTF-8 bytes, little-endian words) computed on the client, so value verification (value-digest.ts)
 * can sum the same 64-bit row hashes on both sides. Chosen over md5 because the server computes it
 * natively and cheaply, and this loop over a reused byte buffer costs a fraction of a crypto hash per row.
 * Checked against the server's own function in test/integration/materialize/canonical-json.test.ts.
 */

let buffer = new ArrayBuffer(1 << 16);
let bytes = Buffer.from(buffer);
let words = new Uint32Array(buffer);
const littleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** The two 32-bit halves of the 64-bit hash: `high` signed, `low` unsigned (the int8 is high·2³² + low). */
export interface RowHash {
  high: number;
  low: number;
}

function rot(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

function word(at: number): number {
  if (littleEndian) return words[at]!;
  const i = at * 4;
  return (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24)) >>> 0;
}

/** Largest buffer kept between rows: one huge row must not pin its size for the rest of the process. */
const keptBytes = 1 << 20;

export function hashTextExtended(text: string): RowHash {
  // UTF-8 needs at most 3 bytes per UTF-16 unit.
  return withRoom(text.length * 3, () => hashBytes(bytes.write(text, 0, 'utf8')));
}

/**
 * The hash of a row's record text (`record_out`'s: `(1,"a b",,"x""y")`) from its fields' output texts
 * (`null`: SQL NULL), as hashTextExtended(recordText) gives it, without building the text as a string:
 * each field is written into the byte buffer once and quoted there (record-text.ts says why).
 */
export function hashRecord(fields: readonly (string | null)[]): RowHash {
  // Every byte doubled at worst, plus quotes and commas.
  let room = 2;
  for (const field of fields) room += field === null ? 1 : field.length * 6 + 3;
  return withRoom(room, () => hashBytes(writeRecord(fields)));
}

/** Writes the record text of `fields` at the buffer's start; returns its length in bytes. */
function writeRecord(fields: readonly (string | null)[]): number {
  let at = 0;
  bytes[at++] = 40; // (
  for (let k = 0; k < fields.length; k++) {
    if (k > 0) bytes[at++] = 44; // ,
    const field = fields[k];
    if (field === null || field === undefined) continue;
    const n = bytes.write(field, at, 'utf8');
    // record_out quotes an empty field or one with " \ ( ) , or C-locale whitespace, doubling " and \.
    let quote = n === 0;
    let doubled = 0;
    for (let i = at; i < at + n; i++) {
      const b = bytes[i]!;
      if (b === 34 || b === 92) doubled++;
      else if (b === 40 || b === 41 || b === 44 || b === 32 || (b >= 9 && b <= 13)) quote = true;
    }
    if (!quote && doubled === 0) {
      at += n;
      continue;
    }
    // Shift right by the opening quote and the doublings, from the end.
    let to = at + n + doubled;
    for (let from = at + n - 1; from >= at; from--) {
      const b = bytes[from]!;
      bytes[to--] = b;
      if (b === 34 || b === 92) bytes[to--] = b;
    }
    bytes[at] = 34;
    at += n + doubled + 1;
    bytes[at++] = 34;
  }
  bytes[at++] = 41; // )
  return at;
}

/**
 * Runs `use` with a buffer of at least `room` bytes (and 12 more of zero padding for the last block),
 * grown as needed; a buffer above `keptBytes` is used for this call only.
 */
function withRoom(room: number, use: () => RowHash): RowHash {
  // The Uint32Array view needs a whole number of words.
  const size = Math.ceil((room + 12) / 4) * 4;
  if (size <= buffer.byteLength) return use();
  const kept = { buffer, bytes, words };
  buffer = new ArrayBuffer(size <= keptBytes ? Math.max(size, buffer.byteLength * 2) : size);
  bytes = Buffer.from(buffer);
  words = new Uint32Array(buffer);
  if (size <= keptBytes) return use();
  try {
    return use();
  } finally {
    ({ buffer, bytes, words } = kept);
  }
}

/** lookup3 over the buffer's first `length` bytes. */
function hashBytes(length: number): RowHash {
  bytes.fill(0, length, length + 12);
  let a = (0x9e3779b9 + length + 3923095) | 0;
  let b = a;
  let c = a;
  let at = 0;
  let left = length;
  for (; left >= 12; left -= 12, at += 3) {
    a = (a + word(at)) | 0;
    b = (b + word(at + 1)) | 0;
    c = (c + word(at + 2)) | 0;
    // mix(a, b, c)
    a = (a - c) | 0;
    a ^= rot(c, 4);
    c = (c + b) | 0;
    b = (b - a) | 0;
    b ^= rot(a, 6);
    a = (a + c) | 0;
    c = (c - b) | 0;
    c ^= rot(b, 8);
    b = (b + a) | 0;
    a = (a - c) | 0;
    a ^= rot(c, 16);
    c = (c + b) | 0;
    b = (b - a) | 0;
    b ^= rot(a, 19);
    a = (a + c) | 0;
    c = (c - b) | 0;
    c ^= rot(b, 4);
    b = (b + a) | 0;
  }
  // The last 0–11 bytes, zero-padded: bytes 0–3 into a, 4–7 into b, 8–10 into c above its lowest byte.
  a = (a + word(at)) | 0;
  b = (b + word(at + 1)) | 0;
  c = (c + (word(at + 2) << 8)) | 0;
  // final(a, b, c)
  c ^= b;
  c = (c - rot(b, 14)) | 0;
  a ^= c;
  a = (a - rot(c, 11)) | 0;
  b ^= a;
  b = (b - rot(a, 25)) | 0;
  c ^= b;
  c = (c - rot(b, 16)) | 0;
  a ^= c;
  a = (a - rot(c, 4)) | 0;
  b ^= a;
  b = (b - rot(a, 14)) | 0;
  c ^= b;
  c = (c - rot(b, 24)) | 0;
  return { high: b | 0, low: c >>> 0 };
}
