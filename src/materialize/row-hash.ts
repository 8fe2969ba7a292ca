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
  const kept = makeRoom(text.length * 3);
  try {
    return hashFilled(bytes.write(text, 0, 'utf8'));
  } finally {
    if (kept) ({ buffer, bytes, words } = kept);
  }
}

/** The same hash of text given as its UTF-8 bytes (`source[start, end)`): one copy, no encoding. */
export function hashBytesExtended(source: Buffer, start: number, end: number): RowHash {
  const kept = makeRoom(end - start);
  try {
    return hashFilled(source.copy(bytes, 0, start, end));
  } finally {
    if (kept) ({ buffer, bytes, words } = kept);
  }
}

/**
 * Makes the buffer hold at least `size` bytes plus the padding; returns the buffer to restore after the
 * row when this one is larger than is kept between rows.
 */
function makeRoom(
  size: number,
): { buffer: ArrayBuffer; bytes: typeof bytes; words: typeof words } | undefined {
  // 12 more bytes of zeros pad the last block; the Uint32Array view needs a whole number of words.
  const room = Math.ceil((size + 12) / 4) * 4;
  if (room <= buffer.byteLength) return undefined;
  const kept = { buffer, bytes, words };
  buffer = new ArrayBuffer(room <= keptBytes ? Math.max(room, buffer.byteLength * 2) : room);
  bytes = Buffer.from(buffer);
  words = new Uint32Array(buffer);
  return room > keptBytes ? kept : undefined;
}

/** The hash of the first `length` bytes of `bytes`. */
function hashFilled(length: number): RowHash {
  // Twelve stores cost less than a fill() call, once per row.
  for (let at = length; at < length + 12; at++) bytes[at] = 0;
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
