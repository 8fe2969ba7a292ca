/**
 * Binary-format result values (JDBC after a few executions, psycopg binary cursors) turned into the
 * text Postgres itself would print for them (DateStyle ISO, bytea_output hex, extra_float_digits ≥ 1),
 * so a recording compares with a replay that reads text. Types not handled here return undefined; the
 * recorder then keeps the raw bytes as \x hex and says so.
 */
const epoch2000Ms = Date.UTC(2000, 0, 1);

export function binaryToText(
  typeOid: number,
  value: Buffer,
  decodeText: (bytes: Buffer) => string,
  timeZone: string | undefined,
): string | undefined {
  switch (typeOid) {
    case 16:
      return value[0] ? 't' : 'f';
    case 17:
      return `\\x${value.toString('hex')}`;
    case 18:
      return value.toString('latin1');
    case 19:
    case 25:
    case 114:
    case 142:
    case 705:
    case 1042:
    case 1043:
      return decodeText(value);
    case 3802:
      return value[0] === 1 ? decodeText(value.subarray(1)) : undefined;
    case 20:
      return value.readBigInt64BE(0).toString();
    case 21:
      return String(value.readInt16BE(0));
    case 23:
      return String(value.readInt32BE(0));
    case 26:
      return String(value.readUInt32BE(0));
    case 700:
      return floatText(value.readFloatBE(0), 6, true);
    case 701:
      return floatText(value.readDoubleBE(0), 15, false);
    case 1082:
      return dateText(value.readInt32BE(0));
    case 1083:
      return timeText(value.readBigInt64BE(0));
    case 1114:
      return timestampText(value.readBigInt64BE(0), '');
    case 1184:
      // Printing a timestamptz needs the session's TimeZone rules; only UTC is done here.
      return /^(UTC|Etc\/UTC|GMT|Etc\/GMT|Z|UCT)$/i.test(timeZone ?? '')
        ? timestampText(value.readBigInt64BE(0), '+00')
        : undefined;
    case 2950: {
      const hex = value.toString('hex');
      return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    }
    case 1700:
      return numericText(value);
    default:
      return undefined;
  }
}

/** Shortest exact digits, in Postgres' layout: exponent form below 1e-4 and from 10^digits up. */
function floatText(value: number, digits: number, single: boolean): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? 'Infinity' : '-Infinity';
  if (value === 0) return Object.is(value, -0) ? '-0' : '0';
  let shortest = value.toExponential();
  if (single) {
    for (let precision = 1; precision <= 9; precision += 1) {
      const candidate = value.toExponential(precision - 1);
      if (Math.fround(Number(candidate)) === value) {
        shortest = candidate;
        break;
      }
    }
  }
  const [mantissa, exponentText] = shortest.split('e');
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= digits) {
    const sign = exponent < 0 ? '-' : '+';
    return `${mantissa}e${sign}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  return String(Number(shortest));
}

function pad(value: number | bigint, width = 2): string {
  return String(value).padStart(width, '0');
}

function dateText(days: number): string {
  if (days === 0x7fffffff) return 'infinity';
  if (days === -0x80000000) return '-infinity';
  const date = new Date(epoch2000Ms + days * 86_400_000);
  const year = date.getUTCFullYear();
  const text = `${pad(year > 0 ? year : 1 - year, 4)}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}`;
  return year > 0 ? text : `${text} BC`;
}

function timeText(micros: bigint): string {
  const seconds = micros / 1_000_000n;
  const fraction = micros % 1_000_000n;
  const clock = `${pad(seconds / 3600n)}:${pad((seconds / 60n) % 60n)}:${pad(seconds % 60n)}`;
  return fraction === 0n ? clock : `${clock}.${pad(fraction, 6).replace(/0+$/, '')}`;
}

function timestampText(micros: bigint, zone: string): string {
  if (micros === 0x7fffffffffffffffn) return 'infinity';
  if (micros === -0x8000000000000000n) return '-infinity';
  const dayMicros = 86_400_000_000n;
  let days = micros / dayMicros;
  let rest = micros % dayMicros;
  if (rest < 0n) {
    rest += dayMicros;
    days -= 1n;
  }
  const date = dateText(Number(days));
  const bc = date.endsWith(' BC');
  const text = `${date.replace(' BC', '')} ${timeText(rest)}${zone}`;
  return bc ? `${text} BC` : text;
}

/** numeric: base-10000 digits with a weight, a sign and the display scale. */
function numericText(value: Buffer): string {
  const count = value.readUInt16BE(0);
  const weight = value.readInt16BE(2);
  const sign = value.readUInt16BE(4);
  const scale = value.readUInt16BE(6);
  if (sign === 0xc000) return 'NaN';
  if (sign === 0xd000) return 'Infinity';
  if (sign === 0xf000) return '-Infinity';
  const digits = Array.from({ length: count }, (_, index) => value.readUInt16BE(8 + index * 2));
  let integer = '';
  for (let index = 0; index <= weight; index += 1) {
    const group = digits[index] ?? 0;
    integer += index === 0 ? String(group) : pad(group, 4);
  }
  if (integer === '') integer = '0';
  let fraction = '';
  for (let index = weight + 1; fraction.length < scale; index += 1) {
    fraction += index < 0 ? '0000' : pad(digits[index] ?? 0, 4);
  }
  fraction = fraction.slice(0, scale);
  const text = scale > 0 ? `${integer}.${fraction}` : integer;
  return sign === 0x4000 ? `-${text}` : text;
}
